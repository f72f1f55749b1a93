//! Journey definitions and step semantics, without any I/O: validation
//! errors name the node and path, and runs move through delays, waits,
//! branches, splits, actions and goals as the marketer drew them.

use kairos_core::ids::ContactId;
use kairos_core::journey::definition::Catalog;
use kairos_core::journey::step::{next_local_time, split_path};
use kairos_core::journey::{
    date_trigger_at, enter, may_enter, parse, step, Action, Definition, EntryHistory, EntryMode, EntryRefusal,
    EntryRule, Facts, Input, PathStep, RunStatus,
};
use kairos_core::segment::{Rule, Schema};
use serde_json::{json, Value};

const DAY: i64 = 86_400_000;
const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z, a Thursday

fn schema() -> Schema {
    Schema::with_custom([("plan".to_string(), kairos_core::fields::FieldType::String)], [])
}

fn catalog() -> Catalog {
    Catalog {
        schema: schema(),
        templates: ["guide".to_string(), "reminder".to_string()].into(),
        webhook_endpoints: ["sales".to_string()].into(),
    }
}

struct Contact {
    plan: &'static str,
    tz: &'static str,
}

impl Facts for Contact {
    fn matches(&self, rule: &Rule) -> bool {
        match rule {
            Rule::Field(f) => match &f.op {
                kairos_core::segment::rule::FieldOp::Equals(kairos_core::segment::rule::Literal::Str(s)) => {
                    f.field == "plan" && s == self.plan
                }
                _ => false,
            },
            _ => false,
        }
    }
    fn timezone(&self) -> jiff::tz::TimeZone {
        jiff::tz::TimeZone::get(self.tz).unwrap()
    }
    fn best_hour(&self) -> u8 {
        20
    }
}

/// The issue's example: when a trial starts, wait a day, email the guide;
/// if they haven't activated in 3 days, send a reminder and alert sales;
/// stop when they pay.
fn onboarding() -> Value {
    json!({
        "trigger": {"type": "event", "event": "Trial Started"},
        "goals": [{"event": "Order Completed"}],
        "start": "wait_a_day",
        "nodes": {
            "wait_a_day": {"type": "delay", "duration": {"days": 1}, "next": "guide"},
            "guide": {"type": "send", "template": "guide", "next": "activated?"},
            "activated?": {"type": "wait_event", "event": "Activated", "timeout": {"days": 3},
                           "next": "done", "timeout_next": "reminder"},
            "reminder": {"type": "send", "template": "reminder", "next": "alert_sales"},
            "alert_sales": {"type": "webhook", "endpoint": "sales", "next": "done"},
            "done": {"type": "exit"}
        }
    })
}

fn def(v: &Value) -> Definition {
    let d = parse(v, &schema()).unwrap();
    assert_eq!(d.check(&catalog()), vec![]);
    d
}

fn err_of(v: Value) -> String {
    match parse(&v, &schema()) {
        Err(e) => e.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "),
        Ok(d) => d.check(&catalog()).iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "),
    }
}

#[test]
fn the_onboarding_journey_runs_as_drawn() {
    let d = def(&onboarding());
    let facts = Contact { plan: "trial", tz: "UTC" };
    let c = ContactId::new();
    let (mut run, out) = enter(&d, "r1".into(), "j1".into(), c, T0, &facts);
    assert_eq!((run.node.as_str(), run.status, run.due_at), ("wait_a_day", RunStatus::Delayed, Some(T0 + DAY)));
    assert!(out.effects.is_empty());

    // A timer that fires early (a stale one) changes nothing.
    assert!(step(&d, &mut run, Input::Timer, T0 + DAY - 1, &facts).path.is_empty());
    let out = step(&d, &mut run, Input::Timer, T0 + DAY, &facts);
    assert_eq!((run.node.as_str(), run.status), ("guide", RunStatus::Acting));
    assert_eq!(out.effects.len(), 1);
    assert_eq!(out.effects[0].key, "r1:guide:2");
    assert!(matches!(&out.effects[0].action, Action::Send { template, .. } if template == "guide"));

    let out = step(&d, &mut run, Input::ActionDone, T0 + DAY + 5, &facts);
    assert!(out.effects.is_empty());
    assert_eq!(
        (run.node.as_str(), run.status, run.due_at),
        ("activated?", RunStatus::Waiting, Some(T0 + DAY + 5 + 3 * DAY))
    );

    // An unrelated event does nothing; the timeout sends the reminder.
    let other = json!({});
    assert!(step(&d, &mut run, Input::Event { name: "Page Viewed", properties: &other }, T0 + 2 * DAY, &facts)
        .path
        .is_empty());
    let out = step(&d, &mut run, Input::Timer, T0 + 4 * DAY + 5, &facts);
    assert_eq!(out.effects[0].key, "r1:reminder:4");
    let out = step(&d, &mut run, Input::ActionDone, T0 + 4 * DAY + 6, &facts);
    assert_eq!(run.node, "alert_sales");
    assert!(matches!(&out.effects[0].action, Action::Webhook { endpoint, .. } if endpoint == "sales"));
    step(&d, &mut run, Input::ActionDone, T0 + 4 * DAY + 7, &facts);
    assert_eq!((run.node.as_str(), run.status), ("done", RunStatus::Completed));
}

#[test]
fn the_awaited_event_takes_the_other_exit_and_a_goal_converts() {
    let d = def(&onboarding());
    let facts = Contact { plan: "trial", tz: "UTC" };
    let (mut run, _) = enter(&d, "r1".into(), "j1".into(), ContactId::new(), T0, &facts);
    step(&d, &mut run, Input::Timer, T0 + DAY, &facts);
    step(&d, &mut run, Input::ActionDone, T0 + DAY, &facts);
    let props = json!({});
    step(&d, &mut run, Input::Event { name: "Activated", properties: &props }, T0 + DAY + 10, &facts);
    assert_eq!(run.status, RunStatus::Completed);

    let (mut run, _) = enter(&d, "r2".into(), "j1".into(), ContactId::new(), T0, &facts);
    let out = step(&d, &mut run, Input::Event { name: "Order Completed", properties: &props }, T0 + 10, &facts);
    assert_eq!(run.status, RunStatus::Converted);
    assert_eq!(out.path[0].outcome, "converted");
    // Nothing moves a finished run.
    assert!(step(&d, &mut run, Input::Timer, T0 + 9 * DAY, &facts).path.is_empty());
}

#[test]
fn a_thirty_day_delay_needs_no_waiting() {
    let v = json!({"trigger": {"type": "api"}, "start": "d",
        "nodes": {"d": {"type": "delay", "duration": {"days": 30}, "next": "x"}, "x": {"type": "exit"}}});
    let d = def(&v);
    let facts = Contact { plan: "", tz: "UTC" };
    let (mut run, _) = enter(&d, "r".into(), "j".into(), ContactId::new(), T0, &facts);
    assert_eq!(run.due_at, Some(T0 + 30 * DAY));
    step(&d, &mut run, Input::Timer, T0 + 30 * DAY - 1, &facts);
    assert_eq!(run.status, RunStatus::Delayed);
    step(&d, &mut run, Input::Timer, T0 + 30 * DAY, &facts);
    assert_eq!(run.status, RunStatus::Completed);
}

#[test]
fn branches_test_rules_in_order_and_internal_actions_pass_straight_on() {
    let v = json!({"trigger": {"type": "api"}, "start": "b",
        "nodes": {
            "b": {"type": "branch", "branches": [{"rule": {"field": "plan", "op": "equals", "value": "pro"}, "next": "tag"}],
                  "otherwise": "x"},
            "tag": {"type": "update_contact", "set": {"plan": "pro-onboarded"}, "next": "score"},
            "score": {"type": "change_score", "score": "engagement", "by": 5, "next": "x"},
            "x": {"type": "exit"}}});
    let d = def(&v);
    let (run, out) = enter(&d, "r".into(), "j".into(), ContactId::new(), T0, &Contact { plan: "pro", tz: "UTC" });
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(out.effects.iter().map(|e| e.action.kind()).collect::<Vec<_>>(), ["update_contact", "change_score"]);
    assert_eq!(out.path[0].detail, "branch 0");
    let (run, out) = enter(&d, "r".into(), "j".into(), ContactId::new(), T0, &Contact { plan: "free", tz: "UTC" });
    assert_eq!(run.status, RunStatus::Completed);
    assert!(out.effects.is_empty());
    assert_eq!(out.path[0].detail, "otherwise");
}

#[test]
fn splits_are_deterministic_per_contact_and_follow_the_weights() {
    let paths = vec![(20, "a".to_string()), (80, "b".to_string())];
    let mut counts = [0usize; 2];
    for _ in 0..20_000 {
        let c = ContactId::new();
        let p = split_path("j", "s", c, &paths);
        assert_eq!(p, split_path("j", "s", c, &paths));
        counts[p] += 1;
    }
    let share = counts[0] as f64 / 20_000.0;
    assert!((0.18..0.22).contains(&share), "20% path got {share}");
}

#[test]
fn failed_actions_park_the_run_and_retry_reuses_the_key() {
    let d = def(&onboarding());
    let facts = Contact { plan: "", tz: "UTC" };
    let (mut run, _) = enter(&d, "r".into(), "j".into(), ContactId::new(), T0, &facts);
    let first = step(&d, &mut run, Input::Timer, T0 + DAY, &facts);
    step(&d, &mut run, Input::ActionFailed { error: "SMTP 554" }, T0 + DAY, &facts);
    assert_eq!((run.status, run.error.as_deref()), (RunStatus::Failed, Some("SMTP 554")));
    let again = step(&d, &mut run, Input::Retry, T0 + 2 * DAY, &facts);
    assert_eq!(run.status, RunStatus::Acting);
    assert_eq!(again.effects[0].key, first.effects[0].key);
}

#[test]
fn unsubscribing_exits_unless_the_journey_says_otherwise() {
    let mut v = onboarding();
    let d = def(&v);
    let facts = Contact { plan: "", tz: "UTC" };
    let (mut run, _) = enter(&d, "r".into(), "j".into(), ContactId::new(), T0, &facts);
    step(&d, &mut run, Input::Unsubscribed, T0, &facts);
    assert_eq!(run.status, RunStatus::Exited);
    v["exit_on_unsubscribe"] = json!(false);
    let d = def(&v);
    let (mut run, _) = enter(&d, "r".into(), "j".into(), ContactId::new(), T0, &facts);
    step(&d, &mut run, Input::Unsubscribed, T0, &facts);
    assert_eq!(run.status, RunStatus::Delayed);
}

#[test]
fn delays_until_a_weekday_use_the_contacts_time_zone() {
    // Thursday 2026-01-01 00:00 UTC is Wednesday 19:00 in New York; the next
    // Monday 09:00 there is 2026-01-05 14:00 UTC.
    let ny = jiff::tz::TimeZone::get("America/New_York").unwrap();
    let t = next_local_time(T0, &ny, &[0], 9, 0);
    assert_eq!(t, T0 + 4 * DAY + 14 * 3_600_000);
    // Across the spring-forward change (2026-03-08), 09:00 local is 13:00 UTC.
    let march7 = 1_772_841_600_000; // 2026-03-07T00:00:00Z, Saturday
    let t = next_local_time(march7, &ny, &[6], 9, 0);
    assert_eq!(t, march7 + DAY + 13 * 3_600_000);

    let v = json!({"trigger": {"type": "api"}, "start": "d",
        "nodes": {"d": {"type": "delay", "until": {"weekdays": ["mon"], "at": "09:00"}, "next": "x"}, "x": {"type": "exit"}}});
    let (run, _) =
        enter(&def(&v), "r".into(), "j".into(), ContactId::new(), T0, &Contact { plan: "", tz: "America/New_York" });
    assert_eq!(run.due_at, Some(T0 + 4 * DAY + 14 * 3_600_000));
}

#[test]
fn delays_until_the_best_hour_wait_for_the_contacts_hour_in_their_zone() {
    // T0 is Wednesday 19:00 in New York; the contact's best hour is 20:00,
    // an hour later (2026-01-01 01:00 UTC).
    let v = json!({"trigger": {"type": "api"}, "start": "d",
        "nodes": {"d": {"type": "delay", "until": {"best_hour": true}, "next": "x"}, "x": {"type": "exit"}}});
    let (run, _) =
        enter(&def(&v), "r".into(), "j".into(), ContactId::new(), T0, &Contact { plan: "", tz: "America/New_York" });
    assert_eq!(run.due_at, Some(T0 + 3_600_000));
    // In Berlin it is 01:00 on Thursday: 20:00 there is 19:00 UTC the same day.
    let (run, _) =
        enter(&def(&v), "r".into(), "j".into(), ContactId::new(), T0, &Contact { plan: "", tz: "Europe/Berlin" });
    assert_eq!(run.due_at, Some(T0 + 19 * 3_600_000));
    let bad = json!({"trigger": {"type": "api"}, "start": "d",
        "nodes": {"d": {"type": "delay", "until": {"best_hour": false}, "next": "x"}, "x": {"type": "exit"}}});
    let e = parse(&bad, &schema()).unwrap_err();
    assert!(e[0].path.ends_with("until.best_hour"), "{e:?}");
}

#[test]
fn entry_rules() {
    let once = EntryRule { mode: EntryMode::Once, cooldown_ms: 0 };
    let at_a_time = EntryRule { mode: EntryMode::OnceAtATime, cooldown_ms: DAY };
    let every = EntryRule { mode: EntryMode::EveryTime, cooldown_ms: 0 };
    let fresh = EntryHistory::default();
    let running = EntryHistory { last_entered: Some(T0), active: true };
    let ended = EntryHistory { last_entered: Some(T0), active: false };
    assert_eq!(may_enter(&once, fresh, T0), Ok(()));
    assert_eq!(may_enter(&once, ended, T0 + 100 * DAY), Err(EntryRefusal::AlreadyEntered));
    assert_eq!(may_enter(&at_a_time, running, T0 + 2 * DAY), Err(EntryRefusal::StillRunning));
    assert_eq!(may_enter(&at_a_time, ended, T0 + 1), Err(EntryRefusal::CoolingDown { until: T0 + DAY }));
    assert_eq!(may_enter(&at_a_time, ended, T0 + DAY), Ok(()));
    assert_eq!(may_enter(&every, running, T0), Ok(()));
}

#[test]
fn date_triggers_fire_in_the_contacts_time_zone() {
    let paris = jiff::tz::TimeZone::get("Europe/Paris").unwrap();
    // Renewal on 2026-03-01, 30 days before at 09:00 Paris = 2026-01-30T08:00Z.
    let t = date_trigger_at(jiff::civil::date(2026, 3, 1), -30, 9, 0, false, &paris, T0).unwrap();
    assert_eq!(jiff::Timestamp::from_millisecond(t).unwrap().to_string(), "2026-01-30T08:00:00Z");
    // A 29 February birthday falls on 28 February in 2026.
    let t = date_trigger_at(jiff::civil::date(1992, 2, 29), 0, 9, 0, true, &paris, T0).unwrap();
    assert_eq!(jiff::Timestamp::from_millisecond(t).unwrap().to_string(), "2026-02-28T08:00:00Z");
    // After this year's birthday has passed, next year's.
    let t2 = date_trigger_at(jiff::civil::date(1992, 2, 29), 0, 9, 0, true, &paris, t).unwrap();
    assert_eq!(jiff::Timestamp::from_millisecond(t2).unwrap().to_string(), "2027-02-28T08:00:00Z");
}

#[test]
fn bad_definitions_are_refused_with_the_node_and_path() {
    let mut v = onboarding();
    v["nodes"]["guide"]["type"] = json!("fax");
    assert!(err_of(v).contains("$.nodes.guide.type (node \"guide\"): unknown node type \"fax\""));

    let mut v = onboarding();
    v["nodes"]["guide"]["next"] = json!("nowhere");
    assert!(err_of(v).contains("(node \"guide\"): an exit leads to \"nowhere\""));

    let mut v = onboarding();
    v["nodes"]["orphan"] = json!({"type": "exit"});
    assert!(err_of(v).contains("(node \"orphan\"): unreachable"));

    let mut v = onboarding();
    v["nodes"]["guide"]["template"] = json!("missing");
    assert!(err_of(v).contains("$.nodes.guide.template (node \"guide\"): unknown template \"missing\""));

    let mut v = onboarding();
    v["nodes"]["alert_sales"]["endpoint"] = json!("crm");
    assert!(err_of(v).contains("unknown webhook endpoint \"crm\""));

    let mut v = onboarding();
    v["nodes"]["reminder"] = json!({"type": "update_contact", "set": {"plann": "x"}, "next": "alert_sales"});
    assert!(err_of(v).contains("$.nodes.reminder.set.plann (node \"reminder\"): unknown contact field \"plann\""));

    let mut v = onboarding();
    v["nodes"]["guide"].as_object_mut().unwrap().remove("next");
    assert!(err_of(v).contains("(node \"guide\"): \"next\" is required"));

    let mut v = onboarding();
    v["nodes"]["activated?"]["where"] = json!([{"property": "plan", "op": "bigger", "value": 1}]);
    assert!(err_of(v).contains("$.nodes.activated?.where[0]"), "{}", err_of(onboarding()));

    // A loop without a delay spins; with one it is a legitimate reminder loop.
    let spin = json!({"trigger": {"type": "api"}, "start": "a", "nodes": {
        "a": {"type": "update_contact", "set": {"plan": "x"}, "next": "b"},
        "b": {"type": "branch", "branches": [{"rule": {"field": "plan", "op": "equals", "value": "y"}, "next": "x"}], "otherwise": "a"},
        "x": {"type": "exit"}}});
    assert!(err_of(spin).contains("cycle with no delay"));
    let looped = json!({"trigger": {"type": "api"}, "start": "a", "nodes": {
        "a": {"type": "send", "template": "reminder", "next": "d"},
        "d": {"type": "delay", "duration": {"days": 7}, "next": "b"},
        "b": {"type": "branch", "branches": [{"rule": {"field": "plan", "op": "equals", "value": "y"}, "next": "x"}], "otherwise": "a"},
        "x": {"type": "exit"}}});
    assert_eq!(err_of(looped), "");

    assert!(err_of(json!({"trigger": {"type": "sometimes"}, "start": "x", "nodes": {"x": {"type": "exit"}}}))
        .contains("$.trigger.type: unknown trigger \"sometimes\""));
    assert!(err_of(json!({"trigger": {"type": "api"}, "start": "x", "nodes": {"x": {"type": "delay", "duration": {"days": 0}, "next": "x"}}}))
        .contains("$.nodes.x.duration (node \"x\"): a duration must be more than zero"));
}

#[test]
fn a_draft_with_several_wrong_parts_is_told_all_of_them_at_once() {
    let bad = json!({"trigger": {"type": "sometimes"}, "start": "a", "colour": "blue",
        "goals": [{"event": "Paid"}, 7],
        "nodes": {
            "a": {"type": "delay", "duration": {"days": 0}, "next": "b"},
            "b": {"type": "teleport", "next": "c"},
            "c": {"type": "exit"}}});
    let errors = parse(&bad, &schema()).unwrap_err();
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["$", "$.trigger.type", "$.goals[1]", "$.nodes.a.duration", "$.nodes.b.type"], "{errors:?}");
    assert_eq!(errors[3].node.as_deref(), Some("a"));
    assert_eq!(errors[4].node.as_deref(), Some("b"));
    assert_eq!(errors[1].node, None, "the node of one problem does not leak into the next");
}

#[test]
fn a_journey_listens_to_its_trigger_waits_and_goals() {
    let i = def(&onboarding()).interest();
    let names: Vec<&str> = i.names.iter().map(String::as_str).collect();
    assert_eq!(names, ["Activated", "Order Completed", "Trial Started"]);
    assert!(!i.every_event && !i.identifies);
    let with_trigger = |trigger: Value| {
        let mut v = onboarding();
        v["trigger"] = trigger;
        def(&v).interest()
    };
    let i = with_trigger(json!({"type": "contact_created"}));
    assert!(i.every_event, "a contact's first event, whatever it is");
    let i = with_trigger(json!({"type": "date_field", "field": "created_at", "offset_days": 30, "at": "09:00"}));
    assert!(i.identifies && !i.names.contains("Trial Started"), "traits move the date");
    let i = with_trigger(json!({"type": "api"}));
    assert_eq!(i.names.len(), 2, "only the wait and the goal");
    let mut all = kairos_core::journey::EventInterest::default();
    all.add(&with_trigger(json!({"type": "contact_created"})));
    all.add(&def(&onboarding()).interest());
    assert!(all.every_event && all.names.contains("Trial Started") && !all.is_empty());
    assert!(kairos_core::journey::EventInterest::default().is_empty());
}

/// Every path line that records an edge names the node the run went to
/// next: the journey's edge counts are read from these lines.
fn assert_edges_follow_the_path(d: &Definition, lines: &[PathStep], expected: &[(&str, &str, &str)]) {
    let mut edges = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if let Some((to, label)) = d.edge_of(&l.node, l.outcome, &l.detail) {
            assert_eq!(lines.get(i + 1).map(|n| n.node.as_str()), Some(to.as_str()), "after {l:?}");
            edges.push((l.node.clone(), to.clone(), label));
        }
    }
    let expected: Vec<(String, String, String)> =
        expected.iter().map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())).collect();
    assert_eq!(edges, expected);
}

#[test]
fn path_lines_name_the_edges_taken() {
    let d = def(&onboarding());
    let facts = Contact { plan: "trial", tz: "UTC" };
    let (mut run, out) = enter(&d, "r1".into(), "j1".into(), ContactId::new(), T0, &facts);
    let mut lines = out.path;
    for (input, at) in [
        (Input::Timer, T0 + DAY),
        (Input::ActionDone, T0 + DAY + 5),
        (Input::Timer, T0 + 4 * DAY + 5),
        (Input::ActionDone, T0 + 4 * DAY + 6),
        (Input::ActionDone, T0 + 4 * DAY + 7),
    ] {
        lines.extend(step(&d, &mut run, input, at, &facts).path);
    }
    assert_eq!(run.status, RunStatus::Completed);
    assert_edges_follow_the_path(
        &d,
        &lines,
        &[
            ("wait_a_day", "guide", ""),
            ("guide", "activated?", ""),
            ("activated?", "reminder", "timeout"),
            ("reminder", "alert_sales", ""),
            ("alert_sales", "done", ""),
        ],
    );

    let v = json!({"trigger": {"type": "api"}, "start": "b",
        "nodes": {
            "b": {"type": "branch", "branches": [{"rule": {"field": "plan", "op": "equals", "value": "pro"}, "next": "tag"}],
                  "otherwise": "s"},
            "tag": {"type": "update_contact", "set": {"plan": "pro-onboarded"}, "next": "x"},
            "s": {"type": "split", "paths": [{"weight": 1, "next": "x"}, {"weight": 1, "next": "tag"}]},
            "x": {"type": "exit"}}});
    let d = def(&v);
    let (_, out) = enter(&d, "r".into(), "j".into(), ContactId::new(), T0, &Contact { plan: "pro", tz: "UTC" });
    assert_edges_follow_the_path(&d, &out.path, &[("b", "tag", "branch 0"), ("tag", "x", "")]);
    let (_, out) = enter(&d, "r".into(), "j".into(), ContactId::new(), T0, &Contact { plan: "free", tz: "UTC" });
    let path = if out.path.iter().any(|l| l.detail == "path 0") {
        vec![("b", "s", "otherwise"), ("s", "x", "path 0")]
    } else {
        vec![("b", "s", "otherwise"), ("s", "tag", "path 1"), ("tag", "x", "")]
    };
    assert_edges_follow_the_path(&d, &out.path, &path);
    // Lines that are no edge: arrivals, exits, failures.
    assert_eq!(d.edge_of("x", "completed", ""), None);
    assert_eq!(d.edge_of("b", "passed", "branch 7"), None);
    assert_eq!(d.edge_of("nowhere", "passed", "done"), None);
}
