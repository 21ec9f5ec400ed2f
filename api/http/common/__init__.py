"""What every HTTP controller shares: authentication, errors as problem details, idempotency keys,
pagination, the OpenAPI document."""
