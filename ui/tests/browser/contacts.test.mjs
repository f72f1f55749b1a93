// Browser tests of the contacts list's filters against the real `kairos demo`
// binary: country, a custom field (added with the keyboard), a company found
// by typing part of its name (the API's ?q= search) and picked with the
// keyboard, and "updated since" narrow the list to exactly what GET /api/v1/contacts returns for the same query, page by
// page; the filters live in the address, so a reload (or a shared link)
// shows the same list with the same controls; a filter nothing matches says
// so and offers to clear; and a filter the server refuses (a number field
// given letters, a field no longer defined, a bad date in a link) shows the
// server's own explanation at that filter, once (never again in a problem
// box, not even while the list is asked for again without it). The column headers sort the list
// (ascending, then descending) to exactly the API's pages for that sort,
// paged with the API's cursors for it; the order stays in the address with
// the filters, and an order the server does not know shows its explanation.
// The list and a contact's page keep their layout while they load, at laptop
// and tablet widths.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { closeAndCheck, eventually, missingPrerequisite, openBrowser, signIn, startKairos, steadyLayout } from "./harness.mjs";

const skip = missingPrerequisite();
if (skip) console.log(`# skipping browser tests: ${skip}`);

describe("contacts list filters", { skip: skip ?? false }, () => {
  let server;
  let b;

  before(async () => {
    server = await startKairos({ contacts: 300 });
  });
  after(async () => {
    await server?.stop();
  });
  afterEach(async (t) => {
    if (!b) return;
    const done = b;
    b = undefined;
    await closeAndCheck(done, server, t.name, { prefix: "last-contacts-", maxName: 60, calledApi: true });
  });

  /** The list shows exactly the API's first page for `query` (the address's own parameters). */
  const showsApiPage = async (page, query, what, cursor) => {
    const p = new URLSearchParams(query);
    p.set("limit", "25");
    if (cursor) p.set("cursor", cursor);
    const api = await server.api("GET", `/api/v1/contacts?${p}`);
    assert.equal(api.status, 200, JSON.stringify(api.body));
    const expected = api.body.data.map((c) => c.email ?? "—");
    const rows = page.locator("table tbody tr");
    await eventually(async () => JSON.stringify(await rows.locator("td:nth-child(2)").allInnerTexts()) === JSON.stringify(expected), 10_000, what);
    return api.body;
  };
  const address = (page) => new URL(page.url()).searchParams.toString();

  test("country, a custom field, a company and updated-since narrow the list to what the API returns; the address keeps them", async () => {
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Contacts" }).click();
    await page.getByRole("heading", { name: "Contacts" }).waitFor();
    await showsApiPage(page, "", "the unfiltered list");

    // Country, typed in lower case: the address and the query carry it in capitals.
    await page.getByLabel("Country").fill("fr");
    await eventually(async () => address(page) === "country=FR", 5000, "the country in the address");
    const french = await showsApiPage(page, "country=FR", "French contacts");
    assert.ok(french.data.length > 0 && french.data.every((c) => c.country === "FR"));

    // A custom-field filter added with the keyboard: newsletter is true.
    await page.getByRole("button", { name: "+ Field filter" }).focus();
    await page.keyboard.press("Enter");
    const row = page.getByTestId("field-filter").first();
    await row.getByLabel("Custom field 1").selectOption("newsletter");
    await row.getByLabel("Value of newsletter").selectOption("true");
    await eventually(async () => address(page) === "country=FR&field.newsletter=true", 5000, "the field filter in the address");
    const subscribers = await showsApiPage(page, "country=FR&field.newsletter=true", "French subscribers");
    assert.ok(subscribers.data.length > 0 && subscribers.data.length < french.data.length, "the field filter narrows the list");

    // The company of the first subscriber, found by typing part of its name
    // (in lower case) and picked with the keyboard: the matches are the API's
    // answer to ?q=, asked for as one types, not a preloaded list.
    const first = subscribers.data.find((c) => c.company_ids.length > 0);
    assert.ok(first, "a French subscriber works for a company");
    const company = (await server.api("GET", `/api/v1/companies/${first.company_ids[0]}`)).body;
    const companyCalls = [];
    page.on("request", (r) => {
      const u = new URL(r.url());
      if (u.pathname === "/api/v1/companies") companyCalls.push(u.searchParams);
    });
    const typed = company.name.split(/\s+/)[0].toLowerCase();
    const found = (await server.api("GET", `/api/v1/companies?q=${encodeURIComponent(typed)}&limit=8`)).body.data;
    const at = found.findIndex((c) => c.id === company.id);
    assert.ok(at >= 0, `the API finds ${company.name} by "${typed}"`);
    const picker = page.getByRole("combobox", { name: "Company" });
    await picker.fill(typed);
    const options = page.getByRole("listbox", { name: "Company: matches" }).getByRole("option");
    await eventually(async () => (await options.count()) === found.length && (await options.first().innerText()).startsWith(found[0].name), 5000, "the API's matches listed");
    assert.ok(companyCalls.some((q) => q.get("q") === typed), "the list was asked for with ?q=");
    assert.ok(companyCalls.every((q) => Number(q.get("limit")) <= 8), "no long list of companies is loaded");
    for (let i = 0; i < at; i++) await picker.press("ArrowDown");
    await picker.press("Enter");
    await eventually(async () => (await page.getByTestId("picked-company").innerText().catch(() => "")) === company.name, 5000, "the picked company");
    const query = `country=FR&company_id=${company.id}&field.newsletter=true`;
    const withSince = (day) => `country=FR&company_id=${company.id}&updated_since=${day}&field.newsletter=true`;
    await eventually(async () => address(page) === query, 5000, "the company in the address");
    const atCompany = await showsApiPage(page, query, "French subscribers at the company");
    assert.ok(atCompany.data.some((c) => c.id === first.id));
    await b.shot("contacts-filtered");

    // A reload shows the same list with the same controls.
    await page.reload();
    await showsApiPage(page, query, "the filtered list after a reload");
    assert.equal(await page.getByLabel("Country").inputValue(), "FR");
    await eventually(async () => (await page.getByTestId("picked-company").innerText().catch(() => "")) === company.name, 5000, "the company named after a reload");
    assert.equal(await page.getByTestId("field-filter").first().getByLabel("Custom field 1").inputValue(), "newsletter");
    assert.equal(await page.getByTestId("field-filter").first().getByLabel("Value of newsletter").inputValue(), "true");

    // Updated since tomorrow: nothing matches, and the page says so and offers to clear.
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    await page.getByLabel("Updated since").fill(tomorrow);
    await eventually(async () => address(page) === withSince(tomorrow), 5000, "updated-since in the address");
    const empty = page.getByTestId("no-contacts");
    await empty.waitFor();
    assert.match(await empty.innerText(), /No contacts match these filters\./);
    assert.equal(await page.locator("table tbody tr").count(), 0);
    await b.shot("contacts-none-match");
    // Since a week ago: the list is back.
    const lastWeek = new Date(Date.now() - 7 * 86_400_000).toISOString().slice(0, 10);
    await page.getByLabel("Updated since").fill(lastWeek);
    await eventually(async () => address(page) === withSince(lastWeek), 5000, "the earlier day in the address");
    const since = new Date(`${lastWeek}T00:00:00`).toISOString();
    await showsApiPage(page, withSince(encodeURIComponent(since)), "contacts updated in the last week");

    // Clearing from the empty state brings back the whole list.
    await page.getByLabel("Updated since").fill(tomorrow);
    await empty.waitFor();
    await empty.getByRole("button", { name: "Clear filters" }).click();
    await eventually(async () => address(page) === "", 5000, "an address without filters");
    await showsApiPage(page, "", "the whole list again");
    assert.equal(await page.getByLabel("Country").inputValue(), "");
    assert.equal(await page.getByTestId("field-filter").count(), 0);
    assert.equal(await page.getByTestId("picked-company").count(), 0, "no company picked");

    // The subscriber's page links their company to the list of its contacts.
    await page.goto(`${server.url}/contacts/${first.id}`);
    await page.getByRole("link", { name: company.name }).click();
    await eventually(async () => address(page) === `company_id=${company.id}`, 5000, "the company's contacts in the address");
    const colleagues = await showsApiPage(page, `company_id=${company.id}`, "the company's contacts");
    assert.ok(colleagues.data.some((c) => c.id === first.id));
    await eventually(async () => (await page.getByTestId("picked-company").innerText().catch(() => "")) === company.name, 5000, "the company picked");
    await b.shot("contacts-company");
  });

  test("a filter on a number field, paged; refused filters show the server's explanation at the filter", async () => {
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server);

    // A shared link: subscribers, more than a page of them.
    await page.goto(`${server.url}/contacts?field.newsletter=true`);
    const p1 = await showsApiPage(page, "field.newsletter=true", "subscribers, page 1");
    assert.ok(p1.next_cursor, "more than one page of subscribers");
    await page.getByRole("button", { name: "Next →" }).click();
    await showsApiPage(page, "field.newsletter=true", "subscribers, page 2", p1.next_cursor);
    await page.getByText("Page 2").waitFor();

    // Changing a filter starts again at page 1: a number field, typed.
    const ltv = (await server.api("GET", "/api/v1/contacts?limit=1&field.newsletter=true")).body.data[0].custom.lifetime_value;
    await page.getByRole("button", { name: "+ Field filter" }).click();
    const second = page.getByTestId("field-filter").nth(1);
    await second.getByLabel("Custom field 2").selectOption("lifetime_value");
    await second.getByLabel("Value of lifetime value").fill(String(ltv));
    await eventually(async () => address(page) === `field.newsletter=true&field.lifetime_value=${ltv}`, 5000, "the number filter in the address");
    const matched = await showsApiPage(page, `field.newsletter=true&field.lifetime_value=${ltv}`, "subscribers with that lifetime value");
    assert.ok(matched.data.length >= 1 && matched.data.every((c) => c.custom.lifetime_value === ltv));
    await page.getByText("Page 1").waitFor();
    // Removing the filter, by its button.
    await page.getByRole("button", { name: "Remove the filter on lifetime value" }).click();
    await eventually(async () => address(page) === "field.newsletter=true", 5000, "the number filter removed");

    // Refused filters, each from a link: the API's message at the filter at fault.
    const refusal = async (query) => {
      const r = await server.api("GET", `/api/v1/contacts?limit=25&${query}`);
      assert.equal(r.status, 422, JSON.stringify(r.body));
      return r.body.errors[0].message;
    };
    await page.goto(`${server.url}/contacts?field.lifetime_value=lots`);
    const numberError = page.getByTestId("field-filter").first().locator(".field-error");
    await numberError.waitFor();
    const numberMessage = await refusal("field.lifetime_value=lots");
    assert.equal(await numberError.innerText(), numberMessage);
    assert.equal(await page.getByText(numberMessage).count(), 1, "the message is shown once, at its filter");
    assert.equal(await page.locator(".problem").count(), 0, "and not in a problem box");
    assert.equal(await page.getByTestId("no-contacts").count(), 0, "a refused filter is not an empty result");
    await b.shot("contacts-refused-number");

    // The refused filter removed: while the list is asked for again (slowly
    // here), its message leaves with its row and never moves into the box.
    const contactsList = (url) => url.pathname === "/api/v1/contacts";
    const slowly = async (route) => {
      await new Promise((r) => setTimeout(r, 1000));
      // A request the page gave up on in the meantime is no longer there to continue.
      await route.continue().catch(() => {});
    };
    await page.route(contactsList, slowly);
    await page.getByRole("button", { name: "Remove the filter on lifetime value" }).click();
    const boxes = [];
    for (let i = 0; i < 10; i++) {
      boxes.push(await page.locator(".problem").allInnerTexts());
      await page.waitForTimeout(80);
    }
    assert.deepEqual(boxes.flat(), [], "no problem box while the list without the filter loads");
    await b.shot("contacts-refused-filter-removed");
    assert.equal(await page.getByText(numberMessage).count(), 0, "the removed filter's message is gone with it");
    await showsApiPage(page, "", "the whole list once the filter is removed");
    await page.unroute(contactsList, slowly);

    await page.goto(`${server.url}/contacts?field.gone=1`);
    const gone = page.getByTestId("field-filter").first();
    await gone.locator(".field-error").waitFor();
    assert.equal(await gone.locator(".field-error").innerText(), await refusal("field.gone=1"));
    await eventually(async () => (await gone.getByLabel("Custom field 1").locator("option:checked").innerText()) === "gone (not defined)", 5000, "the undefined field named");

    await page.goto(`${server.url}/contacts?updated_since=yesterday`);
    const dateError = page.locator("#contact-updated-since-error");
    await dateError.waitFor();
    assert.equal(await dateError.innerText(), await refusal("updated_since=yesterday"));
    assert.equal(await page.getByLabel("Updated since").getAttribute("aria-describedby"), "contact-updated-since-error");
    await b.shot("contacts-refused-date");
    await page.getByRole("button", { name: "Clear filters" }).click();
    await eventually(async () => address(page) === "", 5000, "the bad link cleared");
    await showsApiPage(page, "", "the whole list");
  });

  test("column headers sort the list to the API's pages for that sort, in the address with the filters", async () => {
    b = await openBrowser();
    const { page } = b;
    // Every cursor the page sends, with the order asked for, against the order the API made it in.
    const madeIn = new Map();
    const sent = [];
    page.on("response", async (r) => {
      const u = new URL(r.url());
      if (u.pathname !== "/api/v1/contacts" || r.status() !== 200) return;
      const next = (await r.json().catch(() => null))?.next_cursor;
      if (next) madeIn.set(next, u.searchParams.get("sort") ?? "");
    });
    page.on("request", (r) => {
      const u = new URL(r.url());
      if (u.pathname === "/api/v1/contacts" && u.searchParams.has("cursor")) sent.push({ cursor: u.searchParams.get("cursor"), sort: u.searchParams.get("sort") ?? "" });
    });
    await signIn(page, server);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Contacts" }).click();
    const byId = await showsApiPage(page, "", "the list in id order");
    const ids = (p) => JSON.stringify(p.data.map((c) => c.id));
    const header = (name) => page.locator("thead th").filter({ has: page.getByRole("button", { name, exact: true }) });
    const sortedHeaders = async () => {
      const out = [];
      for (const th of await page.locator("thead th[aria-sort]").all()) out.push(`${await th.textContent()}:${await th.getAttribute("aria-sort")}`);
      return out;
    };
    assert.deepEqual(await sortedHeaders(), [], "no column is marked sorted in the API's default order");

    // First click: ascending.
    await page.getByRole("button", { name: "Email", exact: true }).click();
    await eventually(async () => address(page) === "sort=email", 5000, "sort=email in the address");
    const ascending = await showsApiPage(page, "sort=email", "contacts by email, A to Z");
    assert.equal(await header("Email").getAttribute("aria-sort"), "ascending");
    assert.deepEqual(await sortedHeaders(), ["Email▲:ascending"]);
    assert.notEqual(ids(ascending), ids(byId), "sorting changes the page");

    // Second click: descending, a page at a time with the API's cursors for that sort.
    await page.getByRole("button", { name: "Email", exact: true }).click();
    await eventually(async () => address(page) === "sort=-email", 5000, "sort=-email in the address");
    const first = await showsApiPage(page, "sort=-email", "contacts by email, Z to A");
    assert.equal(await header("Email").getAttribute("aria-sort"), "descending");
    assert.deepEqual(await sortedHeaders(), ["Email▼:descending"]);
    assert.notEqual(ids(first), ids(ascending));
    assert.ok(first.next_cursor, "more than a page of contacts");
    await page.getByRole("button", { name: "Next →" }).click();
    await page.getByText("Page 2").waitFor();
    const second = await showsApiPage(page, "sort=-email", "page 2 by email, Z to A", first.next_cursor);
    assert.ok(second.data.every((c) => !first.data.some((d) => d.id === c.id)), "page 2 goes on after page 1");
    await b.shot("contacts-sorted");

    // A reload keeps the order and the header's state (and starts at page 1: cursors are not in the address).
    await page.reload();
    await showsApiPage(page, "sort=-email", "contacts by email, Z to A, after a reload");
    assert.equal(await header("Email").getAttribute("aria-sort"), "descending");
    await page.getByText("Page 1").waitFor();

    // A filter joins the order in the address; changing either starts again at page 1.
    await page.getByRole("button", { name: "Next →" }).click();
    await page.getByText("Page 2").waitFor();
    await page.getByLabel("Country").fill("fr");
    await eventually(async () => address(page) === "country=FR&sort=-email", 5000, "the country and the order in the address");
    const french = await showsApiPage(page, "country=FR&sort=-email", "French contacts by email, Z to A");
    assert.ok(french.data.length > 0 && french.data.every((c) => c.country === "FR"));
    await page.getByText("Page 1").waitFor();
    // Name sorts by last name; a new column starts ascending.
    await page.getByRole("button", { name: "Name", exact: true }).click();
    await eventually(async () => address(page) === "country=FR&sort=last_name", 5000, "sort=last_name in the address");
    const byName = await showsApiPage(page, "country=FR&sort=last_name", "French contacts by last name");
    assert.notEqual(ids(byName), ids(french));
    assert.deepEqual(await sortedHeaders(), ["Name▲:ascending"]);
    // Clearing the filters keeps the order.
    await page.getByRole("button", { name: "Clear filters" }).click();
    await eventually(async () => address(page) === "sort=last_name", 5000, "only the order left in the address");
    await showsApiPage(page, "sort=last_name", "everyone by last name");

    // Another list from the navigation, from page 2 of this one: it starts at
    // its first page, and no cursor of this order is sent with the other.
    await page.getByRole("button", { name: "Next →" }).click();
    await page.getByText("Page 2").waitFor();
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Contacts" }).click();
    await eventually(async () => address(page) === "", 5000, "the plain list's address");
    await showsApiPage(page, "", "the list in id order again");
    await page.getByText("Page 1").waitFor();
    assert.deepEqual(await sortedHeaders(), []);
    assert.ok(sent.length >= 3, "pages after the first were asked for");
    assert.deepEqual(sent.filter((x) => madeIn.get(x.cursor) !== x.sort), [], "every cursor went with the order it was made in");
    assert.deepEqual(b.refusals.filter((r) => r.includes("/api/v1/contacts")), [], "the server refused no contact list the page asked for");
  });

  for (const [width, height] of [[1366, 900], [768, 1024]]) {
    test(`at ${width} px the list and a contact's page do not move while they load`, async (t) => {
      b = await openBrowser({ width, height });
      const { page } = b;
      await signIn(page, server);
      // Loaded afresh (page.goto), as from a link: the shifts of a click's navigation would not count.
      await page.goto(`${server.url}/contacts`);
      const first = await showsApiPage(page, "", "the first page");
      await page.waitForLoadState("networkidle");
      await steadyLayout(b, "the contacts list", { t });
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), "no sideways scrolling");

      // The contact with the longest score history of this page: the most that arrives late.
      let longest = { id: first.data[0].id, changes: -1 };
      for (const c of first.data) {
        const changes = (await server.api("GET", `/api/v1/contacts/${c.id}/scores/history?limit=20`)).body.data.length;
        if (changes > longest.changes) longest = { id: c.id, changes };
      }
      await page.goto(`${server.url}/contacts/${longest.id}`);
      await page.getByTestId("score-history").waitFor();
      await page.locator(".timeline li").first().waitFor();
      await b.settled();
      await steadyLayout(b, "a contact's page", { t });
    });
  }

  test("a contact's timeline shows an event sent through the tracking API as soon as it is stored (pushed, not polled)", async () => {
    const list = (await server.api("GET", "/api/v1/contacts?limit=50")).body.data;
    const person = list.find((c) => c.external_id);
    assert.ok(person, "a demo contact with a user id");
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server);
    await page.goto(`${server.url}/contacts/${person.id}`);
    const live = page.getByTestId("timeline-live");
    await eventually(async () => (await live.innerText()) === "● live", 10_000, "the live stream open");
    await page.locator(".timeline li").first().waitFor();
    // While the stream is open the timeline polls once a minute: an event
    // seen within seconds was pushed.
    const name = `Pushed Ping ${Date.now()}`;
    await server.track({ userId: person.external_id, event: name, properties: { n: 1 }, messageId: `push-${Date.now()}` });
    await eventually(async () => (await page.locator(".timeline li").first().innerText()).includes(name), 8_000, "the new event on top of the timeline");
    assert.ok(b.apiCalls.includes(`GET /api/v1/contacts/${person.id}/events/live`), "through the contact's live stream");
  });

  test("an order the server does not know shows its explanation above the table, and a way back", async () => {
    b = await openBrowser();
    const { page } = b;
    await signIn(page, server);
    const refused = await server.api("GET", "/api/v1/contacts?limit=25&country=FR&sort=shoe_size");
    assert.equal(refused.status, 422, JSON.stringify(refused.body));
    const message = refused.body.errors.find((e) => e.path === "sort").message;

    await page.goto(`${server.url}/contacts?country=FR&sort=shoe_size`);
    const error = page.locator("#contact-sort-error");
    await error.waitFor();
    assert.equal(await error.innerText(), message);
    assert.match(message, /shoe_size/);
    assert.equal(await page.locator(".problem").count(), 0, "the explanation is shown once, at the order");
    assert.equal(await page.getByTestId("no-contacts").count(), 0, "a refused order is not an empty result");
    assert.equal(await page.locator("thead th[aria-sort]").count(), 0, "no column claims the unknown order");
    await b.shot("contacts-refused-sort");

    // A header's click replaces it, keeping the filter.
    await page.getByRole("button", { name: "Country", exact: true }).click();
    await eventually(async () => address(page) === "country=FR&sort=country", 5000, "a known order in the address");
    await showsApiPage(page, "country=FR&sort=country", "French contacts by country");
    assert.equal(await error.count(), 0);

    // Or "Default order" drops it.
    await page.goto(`${server.url}/contacts?sort=-shoe_size`);
    await error.waitFor();
    await page.getByRole("button", { name: "Default order" }).click();
    await eventually(async () => address(page) === "", 5000, "the bad order dropped");
    await showsApiPage(page, "", "the list in id order");
    assert.equal(await error.count(), 0);
  });
});
