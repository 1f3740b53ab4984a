//! crossbeam-channel peer of the xchan benchmarks: the same rows as bench/c
//! (xchan) and bench/go, written with crossbeam-channel and OS threads.
//!
//!     xchan-bench-crossbeam ROW [--n N] [--cap C]
//!
//! prints one JSON line on stdout and exits non-zero when a check fails (a lost,
//! duplicated or reordered value).  Rows that need go tasks have no crossbeam
//! peer: they exit with status 3 and say so.  See bench/README.md.

use crossbeam_channel::{bounded, select, unbounded, Receiver, Sender, TryRecvError, TrySendError};
use std::hint::black_box;
use std::process::exit;
use std::sync::Arc;
use std::thread;
use std::time::Instant;

macro_rules! check {
    ($cond:expr, $($arg:tt)*) => {
        if !$cond {
            eprintln!("xchan-bench-crossbeam: FAILED: {}", format!($($arg)*));
            exit(1);
        }
    };
}

fn part(n: i64, p: i64, k: i64) -> (i64, i64) {
    (n * p / k, n * (p + 1) / k)
}

/// Peak resident memory of this process image (VmHWM), KiB, or -1.  Not
/// getrusage: its ru_maxrss keeps the peak of the process that exec'd us.
fn vmhwm_kib() -> i64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(-1)
}

fn triangle(n: i64) -> i64 {
    n * (n - 1) / 2
}

/// A JSON value, enough for the one line we print.
enum J {
    I(i64),
    F(f64),
    B(bool),
    S(String),
    A(Vec<i64>),
}

impl J {
    fn render(&self) -> String {
        match self {
            J::I(v) => v.to_string(),
            J::F(v) => {
                if v.is_finite() {
                    format!("{}", v)
                } else {
                    "null".into()
                }
            }
            J::B(v) => v.to_string(),
            J::S(s) => format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")),
            J::A(v) => format!("[{}]", v.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(",")),
        }
    }
}

type Extra = Vec<(&'static str, J)>;

fn seq_bounded(n: i64, c: i64) {
    check!(c >= n, "seq rows need cap >= n (cap {}, n {})", c, n);
    let (s, r) = bounded::<i64>(c as usize);
    for i in 0..n {
        s.send(i).unwrap();
    }
    let mut sum = 0i64;
    for _ in 0..n {
        sum += r.recv().unwrap();
    }
    check!(sum == triangle(n), "sum {} want {}", sum, triangle(n));
}

fn seq_unbounded(n: i64) {
    let (s, r) = unbounded::<i64>();
    for i in 0..n {
        s.send(i).unwrap();
    }
    let mut sum = 0i64;
    for _ in 0..n {
        sum += r.recv().unwrap();
    }
    check!(sum == triangle(n), "sum {} want {}", sum, triangle(n));
}

/// np producers and nc consumers on one channel; the channel disconnects when
/// the last producer drops its sender, consumers receive until then.
fn prod_cons(n: i64, c: i64, np: i64, nc: i64, extra: &mut Extra) {
    let (s, r) = bounded::<i64>(c as usize);
    let consumers: Vec<_> = (0..nc)
        .map(|_| {
            let r = r.clone();
            thread::spawn(move || {
                let (mut sum, mut cnt) = (0i64, 0i64);
                for v in r.iter() {
                    sum += v;
                    cnt += 1;
                }
                (sum, cnt)
            })
        })
        .collect();
    drop(r);
    let producers: Vec<_> = (0..np)
        .map(|p| {
            let s = s.clone();
            thread::spawn(move || {
                let (lo, hi) = part(n, p, np);
                for i in lo..hi {
                    s.send(i).unwrap();
                }
            })
        })
        .collect();
    drop(s);
    for p in producers {
        p.join().unwrap();
    }
    let (mut sum, mut cnt, mut per) = (0i64, 0i64, Vec::new());
    for h in consumers {
        let (s1, c1) = h.join().unwrap();
        sum += s1;
        cnt += c1;
        per.push(c1);
    }
    check!(cnt == n, "received {} want {}", cnt, n);
    check!(sum == triangle(n), "sum {} want {}", sum, triangle(n));
    if nc > 1 {
        extra.push(("per_consumer", J::A(per)));
    }
}

fn pingpong(rounds: i64) {
    let (ping_s, ping_r) = bounded::<i64>(0);
    let (pong_s, pong_r) = bounded::<i64>(0);
    let h = thread::spawn(move || {
        for v in ping_r.iter() {
            pong_s.send(v + 1).unwrap();
        }
    });
    let mut sum = 0i64;
    for i in 0..rounds {
        ping_s.send(i).unwrap();
        sum += pong_r.recv().unwrap();
    }
    drop(ping_s);
    h.join().unwrap();
    check!(sum == triangle(rounds) + rounds, "sum {} want {}", sum, triangle(rounds) + rounds);
}

fn fairness(key: &'static str, counts: &[i64], n: i64, extra: &mut Extra) {
    let total: i64 = counts.iter().sum();
    check!(total == n, "{}: received {} want {}", key, total, n);
    let lo = *counts.iter().min().unwrap() as f64;
    let hi = *counts.iter().max().unwrap() as f64;
    let mean = n as f64 / counts.len() as f64;
    let (k_spread, k_within) = match key {
        "per_channel" => ("per_channel_spread", "per_channel_within_10pct"),
        _ => ("choice_counts_spread", "choice_counts_within_10pct"),
    };
    extra.push((key, J::A(counts.to_vec())));
    extra.push((k_spread, J::F((hi - lo) / mean)));
    extra.push((k_within, J::B(hi - mean <= 0.1 * mean && mean - lo <= 0.1 * mean)));
}

/// 4 senders, each sending 0, 1, 2, ... on its own channel until the receiver
/// disconnects; the receiver selects n times and checks per-channel order.
fn select_rx(n: i64, c: i64, extra: &mut Extra) {
    let mut rs: Vec<Receiver<i64>> = Vec::new();
    let mut hs = Vec::new();
    for _ in 0..4 {
        let (s, r) = bounded::<i64>(c as usize);
        rs.push(r);
        hs.push(thread::spawn(move || {
            let mut v = 0i64;
            while s.send(v).is_ok() {
                v += 1;
            }
        }));
    }
    let mut next = [0i64; 4];
    let mut got = |k: usize, v: i64| {
        check!(v == next[k], "channel {}: got {} want {}", k, v, next[k]);
        next[k] += 1;
    };
    for _ in 0..n {
        select! {
            recv(rs[0]) -> m => got(0, m.unwrap()),
            recv(rs[1]) -> m => got(1, m.unwrap()),
            recv(rs[2]) -> m => got(2, m.unwrap()),
            recv(rs[3]) -> m => got(3, m.unwrap()),
        }
    }
    drop(rs);
    for h in hs {
        h.join().unwrap();
    }
    fairness("per_channel", &next, n, extra);
}

/// select's own choice, without the scheduler: 4 full channels, one thread;
/// each select takes from one and refills it at once.  Not timed.
fn choice_probe(k: i64, extra: &mut Extra) {
    let mut ss = Vec::new();
    let mut rs = Vec::new();
    for i in 0..4 {
        let (s, r) = bounded::<i64>(1);
        s.send(i).unwrap();
        ss.push(s);
        rs.push(r);
    }
    let mut counts = [0i64; 4];
    for _ in 0..k {
        let i = select! {
            recv(rs[0]) -> m => m.unwrap(),
            recv(rs[1]) -> m => m.unwrap(),
            recv(rs[2]) -> m => m.unwrap(),
            recv(rs[3]) -> m => m.unwrap(),
        } as usize;
        counts[i] += 1;
        ss[i].try_send(i as i64).unwrap();
    }
    fairness("choice_counts", &counts, k, extra);
}

fn select_both(n: i64, c: i64) {
    let mut ss: Vec<Sender<i64>> = Vec::new();
    let mut rs: Vec<Receiver<i64>> = Vec::new();
    for _ in 0..4 {
        let (s, r) = bounded::<i64>(c as usize);
        ss.push(s);
        rs.push(r);
    }
    let ss = Arc::new(ss);
    let rs = Arc::new(rs);
    let mut hs = Vec::new();
    for p in 0..4 {
        let ss = ss.clone();
        hs.push(thread::spawn(move || {
            let (lo, hi) = part(n, p, 4);
            for v in lo..hi {
                select! {
                    send(ss[0], v) -> r => r.unwrap(),
                    send(ss[1], v) -> r => r.unwrap(),
                    send(ss[2], v) -> r => r.unwrap(),
                    send(ss[3], v) -> r => r.unwrap(),
                }
            }
            0i64
        }));
        let rs = rs.clone();
        hs.push(thread::spawn(move || {
            let (lo, hi) = part(n, p, 4);
            let mut sum = 0i64;
            for _ in lo..hi {
                sum += select! {
                    recv(rs[0]) -> m => m.unwrap(),
                    recv(rs[1]) -> m => m.unwrap(),
                    recv(rs[2]) -> m => m.unwrap(),
                    recv(rs[3]) -> m => m.unwrap(),
                };
            }
            sum
        }));
    }
    let sum: i64 = hs.into_iter().map(|h| h.join().unwrap()).sum();
    check!(sum == triangle(n), "sum {} want {}", sum, triangle(n));
}

fn full_dropping(n: i64, c: i64) {
    let (s, r) = bounded::<i64>(c as usize);
    for i in 0..c {
        s.send(i).unwrap();
    }
    let mut dropped = 0i64;
    for i in 0..n {
        match s.try_send(black_box(c + i)) {
            Err(TrySendError::Full(_)) => dropped += 1,
            Ok(()) => {}
            Err(e) => check!(false, "try_send: {:?}", e),
        }
    }
    check!(dropped == n, "dropped {} want {}", dropped, n);
    for i in 0..c {
        let v = r.try_recv().unwrap();
        check!(v == i, "kept {} want {}", v, i);
    }
}

fn full_sliding(n: i64, c: i64) {
    let (s, r) = bounded::<i64>(c as usize);
    for i in 0..c {
        s.send(i).unwrap();
    }
    // core.async's sliding buffer with crossbeam: when full, drop the oldest.
    for i in 0..n {
        let v = black_box(c + i);
        if let Err(TrySendError::Full(v)) = s.try_send(v) {
            black_box(r.try_recv().unwrap());
            s.try_send(v).unwrap();
        } else {
            check!(false, "try_send on a full channel did not fail with Full");
        }
    }
    for i in 0..c {
        let v = r.try_recv().unwrap();
        check!(v == n + i, "kept {} want {}", v, n + i);
    }
}

fn failed_poll(n: i64, c: i64) {
    let (s, r) = bounded::<i64>(c as usize);
    let mut fails = 0i64;
    for _ in 0..n {
        match black_box(&r).try_recv() {
            Err(TryRecvError::Empty) => fails += 1,
            other => check!(false, "try_recv on an empty channel: {:?}", other),
        }
    }
    drop(s);
    check!(fails == n, "failed polls {} want {}", fails, n);
}

const ROWS: &[(&str, i64, i64)] = &[
    // row, default n, default cap (-1: n)
    ("seq_bounded", 1_000_000, -1),
    ("seq_unbounded", 1_000_000, -1),
    ("spsc_capN", 1_000_000, 1024),
    ("spsc_cap1", 1_000_000, 1),
    ("pingpong_cap0", 100_000, 0),
    ("mpsc", 1_000_000, 1024),
    ("mpmc_capN", 1_000_000, 1024),
    ("mpmc_cap0", 1_000_000, 0),
    ("select_rx", 1_000_000, 1),
    ("select_both", 1_000_000, 1),
    ("full_dropping", 10_000_000, 64),
    ("full_sliding", 10_000_000, 64),
    ("failed_poll", 10_000_000, 64),
];
const TASK_ROWS: &[&str] = &[
    "pingpong_task",
    "prodcons_task_cap0",
    "prodcons_task_cap10",
    "prodcons_task_cap100",
    "alts_timeout_task",
    "spawn_task",
];

fn usage() -> ! {
    eprintln!("usage: xchan-bench-crossbeam ROW [--n N] [--cap C]\nrows:");
    for (r, _, _) in ROWS {
        eprintln!("  {}", r);
    }
    exit(2);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 2 {
        usage();
    }
    let row = args[1].as_str();
    if TASK_ROWS.contains(&row) {
        eprintln!("xchan-bench-crossbeam: row {} needs go tasks; crossbeam has none (no peer)", row);
        exit(3);
    }
    let Some(&(_, mut n, mut c)) = ROWS.iter().find(|(r, _, _)| *r == row) else {
        eprintln!("xchan-bench-crossbeam: unknown row {:?}", row);
        usage();
    };
    let mut cap_set = false;
    let mut i = 2;
    while i < args.len() {
        let v: i64 = match args.get(i + 1).and_then(|s| s.parse().ok()) {
            Some(v) if v >= 0 => v,
            _ => usage(),
        };
        match args[i].as_str() {
            "--n" => n = v,
            "--cap" => {
                c = v;
                cap_set = true
            }
            _ => usage(),
        }
        i += 2;
    }
    if n <= 0 {
        usage();
    }
    if c < 0 && !cap_set {
        c = n;
    }
    let mut extra: Extra = Vec::new();
    let mut msgs = n;
    let t0 = Instant::now();
    match row {
        "seq_bounded" => seq_bounded(n, c),
        "seq_unbounded" => {
            seq_unbounded(n);
            extra.push(("note", J::S("crossbeam unbounded(); cap ignored".into())));
        }
        "spsc_capN" | "spsc_cap1" => prod_cons(n, c, 1, 1, &mut extra),
        "pingpong_cap0" => {
            pingpong(n);
            msgs = 2 * n;
            extra.push(("round_trips", J::I(n)));
            extra.push(("note", J::S("ns_per_msg is one-way (round trip / 2)".into())));
        }
        "mpsc" => prod_cons(n, c, 4, 1, &mut extra),
        "mpmc_capN" | "mpmc_cap0" => prod_cons(n, c, 4, 4, &mut extra),
        "select_rx" => select_rx(n, c, &mut extra),
        "select_both" => select_both(n, c),
        "full_dropping" => full_dropping(n, c),
        "full_sliding" => full_sliding(n, c),
        "failed_poll" => failed_poll(n, c),
        _ => unreachable!(),
    }
    let elapsed = t0.elapsed();
    if row == "select_rx" {
        choice_probe(n.min(100_000), &mut extra); // not timed
    }
    extra.push(("vmhwm_kib", J::I(vmhwm_kib())));
    extra.push(("msgs", J::I(msgs)));
    extra.push(("elapsed_s", J::F(elapsed.as_secs_f64())));
    let extra_s = extra
        .iter()
        .map(|(k, v)| format!("\"{}\":{}", k, v.render()))
        .collect::<Vec<_>>()
        .join(",");
    println!(
        "{{\"row\":\"{}\",\"impl\":\"crossbeam\",\"n\":{},\"cap\":{},\"ns_per_msg\":{},\"extra\":{{{}}}}}",
        row,
        n,
        c,
        elapsed.as_nanos() as f64 / msgs as f64,
        extra_s
    );
}
