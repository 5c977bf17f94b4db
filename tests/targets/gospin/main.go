// SPDX-License-Identifier: MIT
//
// gospin: the latency bias's Go target (tests/integration/test_latency_bias.py).
//
// main.spin2, main.spin20 and main.spin200 spin 2, 20 and 200 us; they
// start with Go's stack check (cmp 0x10(%r14), %rsp: single-stepped under a
// uprobe).  main.spin20e (emul_amd64.s) starts with `push %rbp` (emulated)
// and calls main.spin20body.  spinBody measures its own duration with the
// monotonic clock around the spin and stores it in spinLog[f][seq % 4096],
// then bumps spinSeq[f]: the test reads both through /proc/PID/mem.
// Main calls them in turn, the longest first (the first call after the
// sleep runs on a cold CPU), then sleeps 2 ms.  Output: "ready <pid>".
package main

import (
	"fmt"
	"os"
	"time"
)

const logN = 4096

var spinLog [4][logN]int64
var spinSeq [4]int64
var counter int64

//go:noinline
func spinBody(ns int64, f int) {
	t0 := time.Now()
	var d int64
	for d < ns {
		d = int64(time.Since(t0))
	}
	spinLog[f][spinSeq[f]%logN] = d
	spinSeq[f]++
}

//go:noinline
func spin2() { spinBody(2000, 0) }

//go:noinline
func spin20() { spinBody(20000, 1) }

//go:noinline
func spin200() { spinBody(200000, 2) }

//go:noinline
func spin20body() { spinBody(20000, 3) }

// spin20e: push %rbp; call spin20body; pop %rbp; ret (emul_amd64.s).
func spin20e()

func main() {
	fmt.Printf("ready %d\n", os.Getpid())
	os.Stdout.Sync()
	for {
		spin200()
		spin20()
		spin20e()
		spin2()
		counter++
		time.Sleep(2 * time.Millisecond)
	}
}
