// Unit tests of the contacts list's filters and order: every filter and the
// order survive the trip through the page address, empty and half-made
// filters stay out of it, the API query sends a day as the instant it starts
// (anything else as typed, for the server to explain) and the order as the
// address has it, a column header's clicks go ascending then descending,
// clearing the filters keeps the order, the custom-field rows offer each
// field once, with the input its type takes, and the server's objections to
// a list go each to its filter, once, never again in the problem box.
import { describe, expect, it } from "vitest";
import { ApiError } from "../../src/api";
import {
  activeFilters,
  apiQuery,
  ariaSort,
  fieldChoices,
  fieldInput,
  fieldLabel,
  filterProblems,
  filtersFromParams,
  isDay,
  nextFieldFilter,
  nextSort,
  NO_FILTERS,
  paramsOfFilters,
  parseSort,
  sinceInstant,
  sortParam,
  withoutFilters,
  type ContactFilters,
  type FieldDefinition,
} from "../../src/pages/contactFilters";

const f = (patch: Partial<ContactFilters> = {}): ContactFilters => ({ ...NO_FILTERS, ...patch });

const DEFS: FieldDefinition[] = [
  { entity: "company", name: "industry", type: "string", label: null },
  { entity: "contact", name: "plan", type: "string", label: null },
  { entity: "contact", name: "lifetime_value", type: "number", label: "Lifetime value (USD)" },
  { entity: "contact", name: "newsletter", type: "boolean", label: null },
  { entity: "contact", name: "interests", type: "list", label: null },
];

describe("the filters in the page address", () => {
  it("are empty for an empty address, and no filters make an empty address", () => {
    expect(filtersFromParams(new URLSearchParams(""))).toStrictEqual(NO_FILTERS);
    expect(paramsOfFilters(NO_FILTERS).toString()).toBe("");
    expect(activeFilters(NO_FILTERS)).toBe(0);
  });

  it("survive a round trip, under the API's own parameter names, in a fixed order", () => {
    const all = f({
      q: "lovelace",
      country: "DE",
      company: "01a24eab-78cc-7185-9686-77a5b0e16051",
      updatedSince: "2026-12-01",
      fields: [
        { name: "plan", value: "pro" },
        { name: "newsletter", value: "true" },
      ],
    });
    const p = paramsOfFilters(all);
    expect(p.toString()).toBe(
      "q=lovelace&country=DE&company_id=01a24eab-78cc-7185-9686-77a5b0e16051&updated_since=2026-12-01&field.plan=pro&field.newsletter=true",
    );
    expect(filtersFromParams(p)).toStrictEqual(all);
    expect(activeFilters(all)).toBe(6);
  });

  it("are tidied on the way out: trimmed, the country in capitals, empty values and unnamed or repeated fields left out", () => {
    const p = paramsOfFilters(
      f({
        q: "  ada ",
        country: "fr",
        fields: [
          { name: "plan", value: " pro " },
          { name: "plan", value: "starter" },
          { name: "newsletter", value: "" },
          { name: "", value: "x" },
        ],
      }),
    );
    expect(p.toString()).toBe("q=ada&country=FR&field.plan=pro");
  });

  it("are read leniently: unknown parameters are ignored, a field given twice counts once, a value is kept as written", () => {
    const read = filtersFromParams(new URLSearchParams("page=3&field.plan=pro&field.plan=starter&updated_since=yesterday&field.gone=1"));
    expect(read).toStrictEqual(
      f({
        updatedSince: "yesterday",
        fields: [
          { name: "plan", value: "pro" },
          { name: "gone", value: "1" },
        ],
      }),
    );
  });
});

describe("the order", () => {
  it("survives the trip through the address after the filters, and is no filter", () => {
    const sorted = f({ country: "DE", fields: [{ name: "plan", value: "pro" }], sort: "-email" });
    const p = paramsOfFilters(sorted);
    expect(p.toString()).toBe("country=DE&field.plan=pro&sort=-email");
    expect(filtersFromParams(p)).toStrictEqual(sorted);
    expect(activeFilters(sorted)).toBe(2);
    expect(paramsOfFilters(f({ sort: "last_name" })).toString()).toBe("sort=last_name");
    expect(activeFilters(f({ sort: "last_name" }))).toBe(0);
    // An order the API does not know is kept as written, for the server to explain.
    expect(filtersFromParams(new URLSearchParams("sort=shoe_size")).sort).toBe("shoe_size");
    expect(paramsOfFilters(f({ sort: " shoe_size " })).toString()).toBe("sort=shoe_size");
  });

  it("is read as a column and a direction; parsing and writing agree for every column", () => {
    for (const key of ["id", "email", "first_name", "last_name", "country", "created_at", "updated_at"] as const) {
      for (const dir of ["asc", "desc"] as const) {
        const s = { key, dir };
        expect(parseSort(sortParam(s))).toStrictEqual(s);
      }
    }
    expect(sortParam({ key: "email", dir: "desc" })).toBe("-email");
    expect(parseSort("country")).toStrictEqual({ key: "country", dir: "asc" });
    expect(parseSort("")).toBe(null);
    expect(parseSort("shoe_size")).toBe(null);
    expect(parseSort("-")).toBe(null);
    expect(parseSort("--email")).toBe(null);
    expect(parseSort("Email")).toBe(null);
  });

  it("goes ascending on a new column's first click, then turns around each click", () => {
    expect(nextSort("", "email")).toBe("email");
    expect(nextSort("email", "email")).toBe("-email");
    expect(nextSort("-email", "email")).toBe("email");
    expect(nextSort("-email", "country")).toBe("country");
    expect(nextSort("last_name", "updated_at")).toBe("updated_at");
    // From an order the API does not know, a click starts over.
    expect(nextSort("shoe_size", "email")).toBe("email");
    expect(nextSort("-shoe_size", "email")).toBe("email");
  });

  it("marks the sorted column's header only", () => {
    expect(ariaSort("email", "email")).toBe("ascending");
    expect(ariaSort("-email", "email")).toBe("descending");
    expect(ariaSort("-email", "country")).toBe(undefined);
    expect(ariaSort("", "email")).toBe(undefined);
    expect(ariaSort("shoe_size", "email")).toBe(undefined);
  });

  it("stays when the filters are cleared", () => {
    const all = f({ q: "ada", country: "FR", company: "c1", updatedSince: "2026-12-01", fields: [{ name: "plan", value: "pro" }], sort: "-country" });
    expect(withoutFilters(all)).toStrictEqual(f({ sort: "-country" }));
    expect(withoutFilters(f())).toStrictEqual(NO_FILTERS);
  });
});

describe("the API query", () => {
  it("carries the filters, the page size and the cursor", () => {
    const q = apiQuery(f({ q: "ada", fields: [{ name: "interests", value: "books" }] }), 25, "c123");
    expect(q.toString()).toBe("q=ada&field.interests=books&limit=25&cursor=c123");
    expect(apiQuery(NO_FILTERS, 25).toString()).toBe("limit=25");
  });

  it("carries the order, with the cursor made in it", () => {
    expect(apiQuery(f({ country: "FR", sort: "-email" }), 25, "c9").toString()).toBe("country=FR&sort=-email&limit=25&cursor=c9");
    expect(apiQuery(f({ sort: "last_name" }), 25).toString()).toBe("sort=last_name&limit=25");
    // An unknown order goes as written: the server's refusal names it.
    expect(apiQuery(f({ sort: "shoe_size" }), 25).get("sort")).toBe("shoe_size");
  });

  it("sends a day as the instant it starts in the browser's time zone, anything else as typed", () => {
    const start = new Date(2026, 11, 1).toISOString();
    expect(sinceInstant("2026-12-01")).toBe(start);
    expect(apiQuery(f({ updatedSince: "2026-12-01" }), 10).get("updated_since")).toBe(start);
    expect(apiQuery(f({ updatedSince: "2026-12-01T10:00:00Z" }), 10).get("updated_since")).toBe("2026-12-01T10:00:00Z");
    expect(apiQuery(f({ updatedSince: "yesterday" }), 10).get("updated_since")).toBe("yesterday");
  });

  it("knows a whole day from anything else", () => {
    expect(isDay("2026-12-01")).toBe(true);
    expect(isDay("2026-13-01")).toBe(false);
    expect(isDay("2026-12-01T00:00:00Z")).toBe(false);
    expect(isDay("")).toBe(false);
  });
});

describe("custom-field filter rows", () => {
  it("offer contact fields only, sorted, each in one row at most", () => {
    expect(fieldChoices(DEFS, [], "").map((d) => d.name)).toStrictEqual(["interests", "lifetime_value", "newsletter", "plan"]);
    const rows = [
      { name: "plan", value: "pro" },
      { name: "newsletter", value: "true" },
    ];
    // A row keeps its own field among its choices, but not another row's.
    expect(fieldChoices(DEFS, rows, "plan").map((d) => d.name)).toStrictEqual(["interests", "lifetime_value", "plan"]);
    expect(nextFieldFilter(DEFS, rows)).toStrictEqual({ name: "interests", value: "" });
    const full = ["interests", "lifetime_value", "newsletter", "plan"].map((name) => ({ name, value: "" }));
    expect(nextFieldFilter(DEFS, full)).toBe(null);
  });

  it("take the input of the field's type, and call it by its label", () => {
    expect(["boolean", "number", "date", "string", "list", "something new"].map(fieldInput)).toStrictEqual(["boolean", "number", "date", "text", "text", "text"]);
    expect(fieldLabel(DEFS[2])).toBe("Lifetime value (USD)");
    expect(fieldLabel({ name: "signup_date", label: null })).toBe("signup date");
    expect(fieldLabel({ name: "plan", label: "  " })).toBe("plan");
  });
});

describe("the server's objections to a list", () => {
  // As GET /api/v1/contacts words a refusal: every message in the detail too.
  const refused = (errors: { path: string; message: string }[]) =>
    new ApiError({
      title: "The request contains invalid values",
      status: 422,
      detail: errors.map((e) => `${e.path}: ${e.message}`).join("; "),
      errors,
    });
  const NUMBER = { path: "field.lifetime_value", message: 'lifetime_value is a number field; "lots" is not a number' };
  const SINCE = { path: "updated_since", message: '"yesterday" is not an RFC 3339 instant like 2024-05-01T00:00:00Z' };
  const CURSOR = { path: "cursor", message: "is not a cursor returned by this endpoint" };

  it("go to their filters and the order, leaving nothing for the box", () => {
    const p = filterProblems(refused([NUMBER, SINCE, { path: "sort", message: "not a sort" }]));
    expect(p.fields).toStrictEqual({ "field.lifetime_value": NUMBER.message, updated_since: SINCE.message, sort: "not a sort" });
    expect(p.rest).toBe(null);
  });

  it("to a custom field are its filter's even while its row is gone (the list asked for again), never the box's", () => {
    // The refusal of the list before the row was removed: the row shows nothing now, and neither does the box.
    expect(filterProblems(refused([NUMBER])).rest).toBe(null);
  });

  it("that name no filter are the box's, which does not repeat what the filters say", () => {
    const p = filterProblems(refused([NUMBER, CURSOR]));
    expect(p.fields).toStrictEqual({ "field.lifetime_value": NUMBER.message });
    const rest = (p.rest as ApiError).problem;
    expect(rest.errors).toStrictEqual([CURSOR]);
    expect(rest.detail).toBe("cursor: is not a cursor returned by this endpoint");
    expect(rest.detail).not.toContain(NUMBER.message);
  });

  it("of another kind (the network, a server error) are the box's, whole", () => {
    const boom = new Error("offline");
    expect(filterProblems(boom)).toStrictEqual({ fields: {}, rest: boom });
    const down = new ApiError({ title: "Internal error", status: 500, detail: "the store is unavailable" });
    expect((filterProblems(down).rest as ApiError).problem.detail).toBe("the store is unavailable");
    expect(filterProblems(undefined)).toStrictEqual({ fields: {}, rest: undefined });
  });
});
