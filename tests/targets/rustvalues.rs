// SPDX-License-Identifier: MIT
//
// rustvalues.rs - the Rust target of tests/integration/test_layouts.py: a
// service-like loop calling functions whose arguments are Rust's own types,
// built the way users build (rustc -C debuginfo=2, linked by rustc's lld).
//
// main calls, every 2 ms, with i = 0, 1, 2... and k = i % 2:
//   greet(name, n)    name = ["alpha", "bravo-charlie"][k] (&str), n = i
//   own(s)            s = "owned-<k>" (String, by value)
//   total(v)          v = &[vec![1, 2, 3], vec![10, 20, 30, 40]][k] (&Vec<i64>)
//   maybe(o)          o = Some(42) (k 0) or None (k 1) (Option<i32>)
//   nick(o)           o = Some("bravo-charlie") (k 0) or None (Option<&str>, niche)
//   area(p, s)        p = &points[k], s = &shapes[i % 3]
//     points = [Point { x: 3, y: 4, label: "origin" }, Point { x: -5, y: 6, label: "far" }]
//     shapes = [Shape::Circle(5), Shape::Rect { w: 3, h: 4 }, Shape::Empty]
// Output: "ready <pid>" once running.
use std::io::Write;

pub struct Point {
    pub x: i64,
    pub y: i64,
    pub label: &'static str,
}

pub enum Shape {
    Circle(i64),
    Rect { w: i64, h: i64 },
    Empty,
}

#[inline(never)]
fn greet(name: &str, n: i64) -> i64 {
    name.len() as i64 + n
}

#[inline(never)]
fn own(s: String) -> usize {
    s.len()
}

#[inline(never)]
fn total(v: &Vec<i64>) -> i64 {
    v.iter().sum()
}

#[inline(never)]
fn maybe(o: Option<i32>) -> i32 {
    o.unwrap_or(-1)
}

#[inline(never)]
fn nick(o: Option<&str>) -> usize {
    o.map_or(0, |s| s.len())
}

#[inline(never)]
fn area(p: &Point, s: &Shape) -> i64 {
    let a = match s {
        Shape::Circle(r) => 3 * r * r,
        Shape::Rect { w, h } => w * h,
        Shape::Empty => 0,
    };
    a + p.x + p.y
}

fn main() {
    println!("ready {}", std::process::id());
    std::io::stdout().flush().unwrap();
    let names = ["alpha", "bravo-charlie"];
    let points = [
        Point { x: 3, y: 4, label: "origin" },
        Point { x: -5, y: 6, label: "far" },
    ];
    let shapes = [Shape::Circle(5), Shape::Rect { w: 3, h: 4 }, Shape::Empty];
    let vecs = [vec![1i64, 2, 3], vec![10i64, 20, 30, 40]];
    let mut sink: i64 = 0;
    let mut i: i64 = 0;
    loop {
        let k = (i % 2) as usize;
        let o = if k == 0 { Some(42) } else { None };
        let nk = if k == 0 { Some(names[1]) } else { None };
        sink = sink.wrapping_add(greet(std::hint::black_box(names[k]), i));
        sink = sink.wrapping_add(own(format!("owned-{}", k)) as i64);
        sink = sink.wrapping_add(total(std::hint::black_box(&vecs[k])));
        sink = sink.wrapping_add(maybe(std::hint::black_box(o)) as i64);
        sink = sink.wrapping_add(nick(std::hint::black_box(nk)) as i64);
        sink = sink.wrapping_add(area(&points[k], std::hint::black_box(&shapes[(i % 3) as usize])));
        std::hint::black_box(sink);
        std::thread::sleep(std::time::Duration::from_millis(2));
        i += 1;
    }
}
