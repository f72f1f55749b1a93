//! Email benchmark: how many personalised, DKIM-signed messages Kairos gets
//! onto an SMTP connection per second, against the bare signing rate of the
//! same keys in the same run (the alternative: the most a signer could do
//! with nothing else to do), and how fast templates render.
//!
//! Part 1, rendering: a compiled MJML template with Liquid personalisation
//! (names, a custom field, the event's total through `money`, a segment
//! condition) rendered for distinct contacts, one thread and all threads.
//!
//! Part 2, bare signing: the same finished ~10 KB message signed over and
//! over on every core, RSA-2048 and Ed25519.
//!
//! Part 3, delivery: per message, build the contact's context, render, add
//! the footer, rewrite links through signed tracking URLs, add the open
//! pixel, compose (multipart/alternative), DKIM-sign, and send through
//! Kairos's SMTP client (`kairos_engine::smtp`, lettre's protocol over
//! pooled no-delay connections) to an SMTP server on loopback — a minimal sink in this
//! program that speaks enough SMTP (EHLO, MAIL, RCPT, DATA, RSET, QUIT) and
//! counts what it accepts, so the figure is Kairos's, not a slow test
//! server's.

use anyhow::Result;
use clap::Parser;
use kairos_email::dkim::{self, Algorithm, Signer};
use kairos_email::message::{self, Outgoing, Sender, Unsubscribe};
use kairos_email::template::{self, BodyFormat, Schema, Template, TemplateSource};
use kairos_email::tracking;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

#[derive(Parser)]
struct Args {
    /// Messages rendered in the rendering run (per thread count).
    #[arg(long, default_value_t = 200_000)]
    render: usize,
    /// Signatures per algorithm in the bare signing run.
    #[arg(long, default_value_t = 4_000)]
    sign: usize,
    /// Messages delivered per algorithm.
    #[arg(long, default_value_t = 20_000)]
    deliver: usize,
    /// Sends in flight at once.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// SMTP connections in lettre's pool.
    #[arg(long, default_value_t = 16)]
    pool: u32,
}

const MJML: &str = r##"<mjml><mj-body background-color="#f4f4f7"><mj-section background-color="#ffffff" padding="24px"><mj-column>
<mj-text font-size="22px" font-weight="bold">Welcome back, {{ contact.first_name | default: "friend" }}!</mj-text>
<mj-text>Your {{ contact.custom.plan | default: "free" }} plan renews soon. Last order: {{ event.properties.total | money: "EUR" }}
(order {{ event.properties.order_id }}) for {{ contact.email }} in {{ contact.country | default: "your country" }}.</mj-text>
<mj-text>{% if segments contains "Big spenders" %}As one of our best customers, shipping is on us.{% else %}Free shipping over €50.{% endif %}</mj-text>
<mj-button href="https://shop.example/account?ref=renewal">Manage your plan</mj-button>
<mj-text><a href="https://shop.example/new">New arrivals</a> · <a href="https://shop.example/sale">Sale</a></mj-text>
</mj-column></mj-section></mj-body></mjml>"##;

fn template() -> Template {
    let src = TemplateSource {
        subject: "{{ contact.first_name | default: 'Hello' }}, your plan renews soon".into(),
        body: MJML.into(),
        format: BodyFormat::Mjml,
        text: None,
        layout: None,
    };
    let schema = Schema { contact_fields: ["plan".to_string()].into(), ..Schema::default() };
    match template::compile(&src, &schema) {
        Ok(t) => t,
        Err(p) => panic!("the benchmark template does not compile: {p:?}"),
    }
}

fn context(i: usize) -> template::Context {
    let names = ["Ada", "Grace", "Linus", "Margaret", "Alan", "Barbara", "Dennis", "Frances"];
    let v = json!({
        "contact": {"id": format!("c{i}"), "email": format!("user{i}@example.org"), "first_name": names[i % names.len()],
                    "last_name": "Example", "country": "DE", "timezone": "Europe/Berlin", "custom": {"plan": "pro"}},
        "company": {"name": null, "custom": {}},
        "event": {"name": "Order Completed", "timestamp": "2026-11-20T10:00:00Z",
                  "properties": {"total": 40.0 + (i % 200) as f64, "order_id": format!("o-{i}")}},
        "segments": if i.is_multiple_of(3) { json!(["Big spenders"]) } else { json!([]) },
        "scores": {}, "links": {"unsubscribe": "https://k.example/u/x", "preferences": "https://k.example/p/x"},
        "sender": {"name": "Acme", "email": "news@acme.example", "postal_address": "Acme, 1 Main St, Springfield"},
        "message": {"id": format!("m{i}")},
    });
    match v {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

/// Everything Kairos does to one message before handing it to SMTP.
fn prepare(t: &Template, signer: &Signer, key: &[u8; 32], i: usize) -> (String, Vec<u8>) {
    let ctx = context(i);
    let mut r = t.render(&ctx).expect("render");
    let id = uuid::Uuid::now_v7();
    let ws = uuid::Uuid::nil();
    let base = "https://k.example";
    let unsub = format!("{base}/u/{}", tracking::unsubscribe_token(key, ws, id, id));
    r.html = message::add_footer(
        &r.html,
        &message::footer_html(&unsub, "https://k.example/p/x", "Acme, 1 Main St, Springfield"),
    );
    r.text.push_str(&message::footer_text(&unsub, "https://k.example/p/x", "Acme, 1 Main St, Springfield"));
    let utm = tracking::Utm { source: "kairos".into(), medium: "email".into(), campaign: "renewal".into() };
    r.html = tracking::rewrite_links(&r.html, |u| {
        Some(format!("{base}/t/c/{}", tracking::click_token(key, ws, id, &tracking::with_utm(u, &utm))))
    });
    r.html = tracking::add_pixel(&r.html, &format!("{base}/t/o/{}.gif", tracking::open_token(key, ws, id)));
    let to = format!("user{i}@example.org");
    let sender = Sender { name: Some("Acme".into()), email: "news@acme.example".into(), reply_to: None };
    let u = Unsubscribe { one_click_url: unsub, mailto: Some("mailto:unsubscribe@acme.example".into()) };
    let raw = message::compose(&Outgoing {
        id,
        sender: &sender,
        to_name: None,
        to_email: &to,
        content: &r,
        date: chrono::Utc::now(),
        unsubscribe: Some(&u),
        feedback_id: Some("renewal:marketing:kairos"),
    })
    .expect("compose");
    (to, signer.sign_message(&raw).expect("sign"))
}

fn threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)
}

/// Run `per_thread` iterations of `f` on every core; returns per-second rate.
fn on_all_cores(per_thread: usize, f: impl Fn(usize) + Sync) -> f64 {
    let n = threads();
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..n {
            let f = &f;
            s.spawn(move || {
                for i in 0..per_thread {
                    f(t * per_thread + i);
                }
            });
        }
    });
    (n * per_thread) as f64 / start.elapsed().as_secs_f64()
}

/// A minimal SMTP server that accepts everything and counts messages.
async fn sink(count: Arc<AtomicU64>) -> Result<u16> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let count = count.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut r = BufReader::with_capacity(64 * 1024, r);
                let _ = w.write_all(b"220 sink ESMTP\r\n").await;
                let mut line = Vec::with_capacity(1024);
                let mut in_data = false;
                loop {
                    line.clear();
                    match r.read_until(b'\n', &mut line).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    if in_data {
                        if line == b".\r\n" {
                            in_data = false;
                            count.fetch_add(1, Ordering::Relaxed);
                            let _ = w.write_all(b"250 2.0.0 queued\r\n").await;
                        }
                        continue;
                    }
                    let verb = line.get(..4).map(|v| v.to_ascii_uppercase()).unwrap_or_default();
                    let reply: &[u8] = match &verb[..] {
                        b"EHLO" => b"250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
                        b"HELO" => b"250 sink\r\n",
                        b"DATA" => {
                            in_data = true;
                            b"354 go ahead\r\n"
                        }
                        b"QUIT" => {
                            let _ = w.write_all(b"221 bye\r\n").await;
                            return;
                        }
                        _ => b"250 OK\r\n",
                    };
                    if w.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Ok(port)
}

async fn deliver(args: &Args, t: Arc<Template>, signer: Arc<Signer>, key: [u8; 32]) -> Result<f64> {
    let count = Arc::new(AtomicU64::new(0));
    let port = sink(count.clone()).await?;
    let smtp = Arc::new(
        kairos_engine::smtp::SmtpRelay::from_url(&format!("smtp://127.0.0.1:{port}"), args.pool as usize)
            .map_err(anyhow::Error::msg)?,
    );
    let next = Arc::new(AtomicU64::new(0));
    let total = args.deliver as u64;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        let (t, signer, smtp, next) = (t.clone(), signer.clone(), smtp.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return Ok::<_, anyhow::Error>(());
                }
                let (to, signed) = prepare(&t, &signer, &key, i as usize);
                let envelope = lettre::address::Envelope::new(Some("news@acme.example".parse()?), vec![to.parse()?])?;
                smtp.send(&envelope, &signed).await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
            }
        }));
    }
    for task in tasks {
        task.await??;
    }
    let rate = total as f64 / start.elapsed().as_secs_f64();
    anyhow::ensure!(
        count.load(Ordering::Relaxed) == total,
        "the sink accepted {} of {total}",
        count.load(Ordering::Relaxed)
    );
    Ok(rate)
}

fn main() -> Result<()> {
    let args = Args::parse();
    let t = Arc::new(template());
    let key = [7u8; 32];
    println!("== email: rendering (MJML compiled on save; Liquid per message) ==");
    let one = {
        let start = Instant::now();
        for i in 0..args.render {
            std::hint::black_box(t.render(&context(i)).expect("render"));
        }
        args.render as f64 / start.elapsed().as_secs_f64()
    };
    let all = on_all_cores(args.render / threads(), |i| {
        std::hint::black_box(t.render(&context(i)).expect("render"));
    });
    let sample = t.render(&context(0)).expect("render");
    println!(
        "render (context + Liquid on the compiled HTML, subject and text; {} KB HTML): {one:.0} messages/s on one thread, \
         {all:.0} messages/s on {} threads",
        sample.html.len() / 1024,
        threads()
    );

    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    for alg in [Algorithm::Ed25519, Algorithm::Rsa2048] {
        let pair = dkim::generate(alg)?;
        let signer = Arc::new(Signer::new(alg, "acme.example", "bench", &pair.private_der)?);
        let (_, finished) = prepare(&t, &signer, &key, 1);
        let per_thread = (args.sign / threads()).max(1);
        let bare = on_all_cores(per_thread, |_| {
            std::hint::black_box(signer.sign(&finished).expect("sign"));
        });
        let prep_n = if alg == Algorithm::Rsa2048 { args.sign } else { args.deliver };
        let prepared = on_all_cores(prep_n / threads(), |i| {
            std::hint::black_box(prepare(&t, &signer, &key, i));
        });
        let n = if alg == Algorithm::Rsa2048 { args.deliver / 4 } else { args.deliver };
        let run = Args { deliver: n, ..args_clone(&args) };
        let delivered = rt.block_on(deliver(&run, t.clone(), signer.clone(), key))?;
        println!("== email: {} ==", alg.as_str());
        println!(
            "bare signing of a {} KB message on {} threads (alternative): {bare:.0} signatures/s",
            finished.len() / 1024,
            threads()
        );
        println!("render + track + compose + sign, no SMTP, on {} threads: {prepared:.0} messages/s", threads());
        println!(
            "render + track + compose + sign + SMTP to a loopback server, {n} messages, {} in flight, pool {}: \
             {delivered:.0} messages/s = {:.0}% of bare signing",
            run.concurrency,
            run.pool,
            100.0 * delivered / bare
        );
    }
    Ok(())
}

fn args_clone(a: &Args) -> Args {
    Args { render: a.render, sign: a.sign, deliver: a.deliver, concurrency: a.concurrency, pool: a.pool }
}
