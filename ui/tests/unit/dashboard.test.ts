// Unit tests of the dashboard's pure logic: email rates guard against
// nothing sent; the "Needs attention" feed puts what blocks all email first,
// lists only what was read (a source the role may not read is absent, not
// "fine"), drops failed runs already shown as dead letters, offers Retry
// only to roles that may, and turns run counts into aggregate items.
import { expect, test } from "vitest";
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
  expect(rate(1, 8)).toBe("12.5%");
  expect(rate(2, 3)).toBe("66.7%");
  expect(rate(0, 10)).toBe("0%");
  expect(rate(5, 0)).toBe("—");
});

test("nothing read, nothing listed: sources the role may not read are not reported as problems", () => {
  expect(attentionItems(base)).toStrictEqual([]);
});

test("a missing postal address and no sender come first, linking to the settings", () => {
  const items = attentionItems({ ...base, postalAddress: "  ", senders: 0, segments: [{ id: "s1", name: "Buyers", status: "failed", error: "bad rule" }], deadLetters: [dead()] });
  expect(items.map((i) => i.kind)).toStrictEqual(["postal-address", "no-sender", "segment", "dead-letter"]);
  expect(items[0].to).toBe("/settings");
  expect(items[1].to).toBe("/settings");
  expect(items[2].to).toBe("/segments/s1");
  expect(items[2].detail).toBe("bad rule");
  expect(attentionItems({ ...base, postalAddress: null }).length, "null is missing too").toBe(1);
  expect(attentionItems({ ...base, postalAddress: "1 Market St", senders: 2 }).length).toBe(0);
});

test("segments that built are not listed", () => {
  expect(attentionItems({ ...base, segments: [{ id: "s1", name: "A", status: "active" }, { id: "s2", name: "B", status: "building" }] })).toStrictEqual([]);
});

test("dead letters name the journey and step, offer Retry with their run, and hide the same run among failed runs", () => {
  const items = attentionItems({ ...base, deadLetters: [dead()], failedRuns: [{ journeyId: "j1", runs: [run("r1"), run("r2")] }] });
  expect(items.map((i) => i.key)).toStrictEqual(["dead-r1:send:1", "run-r2"]);
  expect(items[0].title).toMatch(/email at step send of Welcome series gave up after 5 attempts/);
  expect(items[0].retryRun).toBe("r1");
  expect(items[0].when).toBe(2000);
  expect(items[1].retryRun).toBe("r2");
  expect(items[1].to).toBe("/journeys/j1");
  expect(items[1].title).toMatch(/Welcome series failed at step send/);
});

test("no Retry for roles that may not retry, nor for a dead letter without a run", () => {
  const items = attentionItems({ ...base, canRetry: false, deadLetters: [dead()], failedRuns: [{ journeyId: "j1", runs: [run("r2")] }] });
  expect(items.every((i) => i.retryRun === undefined)).toBeTruthy();
  expect(attentionItems({ ...base, deadLetters: [dead({ run_id: undefined, attempts: 1 })] })[0].retryRun).toBe(undefined);
  expect(attentionItems({ ...base, deadLetters: [dead({ attempts: 1 })] })[0].title).toMatch(/after 1 attempt$/);
});

test("failed run counts become aggregate items naming no one, and zero counts vanish", () => {
  const items = attentionItems({ ...base, failedCounts: [{ journeyId: "j1", failed: 0 }, { journeyId: "j2", failed: 3 }] });
  expect(items.length).toBe(1);
  expect(items[0].title).toBe("3 runs of Win-back failed");
  expect(items[0].to).toBe("/journeys/j2");
  expect(items[0].retryRun).toBe(undefined);
  expect(items[0].detail).toBe(undefined);
});
