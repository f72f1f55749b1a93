// Unit tests of the dashboard's pure logic: email rates guard against
// nothing sent; the "Needs attention" feed puts what blocks all email first,
// lists only what was read (a source the role may not read is absent, not
// "fine"), drops failed runs already shown as dead letters, offers Retry
// only to roles that may, and turns run counts into aggregate items.
import assert from "node:assert/strict";
import { test } from "node:test";
import { attentionItems, rate, type AttentionInput, type DeadLetter, type FailedRun } from "../../src/dashboard/feed";

const name = (id: string) => ({ j1: "Welcome series", j2: "Win-back" })[id] ?? id;
const base: AttentionInput = { journeyName: name, canRetry: true };

const dead = (over: Partial<DeadLetter> = {}): DeadLetter => ({
  key: "r1:send:1",
  run_id: "r1",
  journey_id: "j1",
  node: "send",
  kind: "email",
  attempts: 5,
  last_error: "smtp refused",
  created_at: 1000,
  done_at: 2000,
  ...over,
});
const run = (id: string, over: Partial<FailedRun> = {}): FailedRun => ({ id, journey_id: "j1", contact_id: "c1", node: "send", error: "boom", updated_at: 3000, ...over });

test("rates: one decimal, and a dash when nothing was sent", () => {
  assert.equal(rate(1, 8), "12.5%");
  assert.equal(rate(2, 3), "66.7%");
  assert.equal(rate(0, 10), "0%");
  assert.equal(rate(5, 0), "—");
});

test("nothing read, nothing listed: sources the role may not read are not reported as problems", () => {
  assert.deepEqual(attentionItems(base), []);
});

test("a missing postal address and no sender come first, linking to the settings", () => {
  const items = attentionItems({ ...base, postalAddress: "  ", senders: 0, segments: [{ id: "s1", name: "Buyers", status: "failed", error: "bad rule" }], deadLetters: [dead()] });
  assert.deepEqual(items.map((i) => i.kind), ["postal-address", "no-sender", "segment", "dead-letter"]);
  assert.equal(items[0].to, "/settings");
  assert.equal(items[1].to, "/settings");
  assert.equal(items[2].to, "/segments/s1");
  assert.equal(items[2].detail, "bad rule");
  assert.equal(attentionItems({ ...base, postalAddress: null }).length, 1, "null is missing too");
  assert.equal(attentionItems({ ...base, postalAddress: "1 Market St", senders: 2 }).length, 0);
});

test("segments that built are not listed", () => {
  assert.deepEqual(attentionItems({ ...base, segments: [{ id: "s1", name: "A", status: "active" }, { id: "s2", name: "B", status: "building" }] }), []);
});

test("dead letters name the journey and step, offer Retry with their run, and hide the same run among failed runs", () => {
  const items = attentionItems({ ...base, deadLetters: [dead()], failedRuns: [{ journeyId: "j1", runs: [run("r1"), run("r2")] }] });
  assert.deepEqual(items.map((i) => i.key), ["dead-r1:send:1", "run-r2"]);
  assert.match(items[0].title, /email at step send of Welcome series gave up after 5 attempts/);
  assert.equal(items[0].retryRun, "r1");
  assert.equal(items[0].when, 2000);
  assert.equal(items[1].retryRun, "r2");
  assert.equal(items[1].to, "/journeys/j1");
  assert.match(items[1].title, /Welcome series failed at step send/);
});

test("no Retry for roles that may not retry, nor for a dead letter without a run", () => {
  const items = attentionItems({ ...base, canRetry: false, deadLetters: [dead()], failedRuns: [{ journeyId: "j1", runs: [run("r2")] }] });
  assert.ok(items.every((i) => i.retryRun === undefined));
  assert.equal(attentionItems({ ...base, deadLetters: [dead({ run_id: undefined, attempts: 1 })] })[0].retryRun, undefined);
  assert.match(attentionItems({ ...base, deadLetters: [dead({ attempts: 1 })] })[0].title, /after 1 attempt$/);
});

test("failed run counts become aggregate items naming no one, and zero counts vanish", () => {
  const items = attentionItems({ ...base, failedCounts: [{ journeyId: "j1", failed: 0 }, { journeyId: "j2", failed: 3 }] });
  assert.equal(items.length, 1);
  assert.equal(items[0].title, "3 runs of Win-back failed");
  assert.equal(items[0].to, "/journeys/j2");
  assert.equal(items[0].retryRun, undefined);
  assert.equal(items[0].detail, undefined);
});
