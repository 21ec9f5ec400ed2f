// The README's "API in five minutes" in TypeScript: types from openapi-typescript, calls through
// openapi-fetch. scripts/clients.py generates generated/schema.d.ts from the live document and
// checks this file with `tsc --strict` (it is not run: the Python tour runs the same steps).
import createClient from "openapi-fetch";
import type { components, paths } from "./generated/schema";

type Problem = components["schemas"]["Problem"];
type ExchangeStatus = components["schemas"]["ExchangeStatus"];

const slug = "demo";

function client(baseUrl: string, token: string) {
  return createClient<paths>({
    baseUrl,
    headers: { Authorization: `Bearer ${token}` },
  });
}

function ok<T>(answer: { data?: T; error?: Problem }): T {
  if (answer.data === undefined) {
    const problem = answer.error;
    throw new Error(problem ? `${problem.status} ${problem.code}: ${problem.detail}` : "no answer");
  }
  return answer.data;
}

export async function tour(url: string, treasurerToken: string, annToken: string, bobToken: string) {
  const treasurer = client(url, treasurerToken);
  const ann = client(url, annToken);
  const bob = client(url, bobToken);
  const community = { path: { slug } };

  // The chart of accounts, 5 per page.
  const page = ok(
    await treasurer.GET("/api/v1/communities/{slug}/accounts", {
      params: { ...community, query: { limit: 5 } },
    }),
  );
  for (const account of page.items) console.log(account.code, account.type, account.commodity);

  // Move 12.50 EUR of takings into the bank, retry-safe with an Idempotency-Key.
  const accounts = ok(
    await treasurer.GET("/api/v1/communities/{slug}/accounts", {
      params: { ...community, query: { limit: 500 } },
    }),
  ).items;
  const bank = accounts.find((a) => a.code === "Assets:Bank")?.id ?? "";
  const farm = accounts.find((a) => a.code === "Income:Farm")?.id ?? "";
  const body = { debit_account_id: bank, credit_account_id: farm, amount: 1250, description: "Egg stall" };
  const entry = ok(
    await treasurer.POST("/api/v1/communities/{slug}/transfers", {
      params: { ...community, header: { "Idempotency-Key": "takings-1" } },
      body,
    }),
  );
  const status: "pending" | "posted" | "voided" = entry.status;
  const conflict = await treasurer.POST("/api/v1/communities/{slug}/transfers", {
    params: { ...community, header: { "Idempotency-Key": "takings-1" } },
    body: { ...body, amount: 999 },
  });
  if (conflict.error?.code === "idempotency_conflict") console.log("409", conflict.error.type);

  // Ann records the 90 minutes of help she gave Bob; Bob confirms.
  const members = ok(
    await treasurer.GET("/api/v1/communities/{slug}/members", { params: community }),
  ).items;
  const annId = members.find((m) => m.name === "Ann Weaver")?.id ?? "";
  const bobId = members.find((m) => m.name === "Bob Gardener")?.id ?? "";
  const exchange = ok(
    await ann.POST("/api/v1/communities/{slug}/exchanges", {
      params: community,
      body: {
        provider_member_id: annId,
        receiver_member_id: bobId,
        minutes: 90,
        description: "Fixed the garden fence",
        category: "repairs",
      },
    }),
  );
  const confirmed = ok(
    await bob.POST("/api/v1/communities/{slug}/exchanges/{exchange_id}/confirm", {
      params: { path: { slug, exchange_id: exchange.id } },
    }),
  );
  const after: ExchangeStatus = confirmed.status;

  // Every commodity's trial balance: debits equal credits.
  const trial = ok(
    await treasurer.GET("/api/v1/communities/{slug}/trial-balance", { params: community }),
  );
  for (const c of trial.commodities) console.log(c.commodity, c.total_debit === c.total_credit);

  // Entry metadata is typed on the way out as on the way in.
  const metadata: Record<string, string | number | boolean | null> = entry.metadata;
  return { status, after, metadata };
}
