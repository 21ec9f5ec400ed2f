"""One module per resource; handlers translate HTTP to a use case and back."""
