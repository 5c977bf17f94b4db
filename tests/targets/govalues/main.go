// govalues - a deterministic Go program whose functions take every kind of
// argument deep collection must bring back (issue 9): strings, integers,
// pointers to structs with string fields, slices of strings, interfaces, a
// map and a channel.
//
// Usage: govalues   (no arguments)
//
// It prints "ready <pid>" on stdout, then main.main calls, for
// k = 0, 1, 2, ... every 5 ms (main.calls = k + 1 after call k):
//
//	handle(name, n, p, tags) with
//	    name = "req-<k>"              (built at run time: heap bytes)
//	    n    = 100 + k
//	    p    = &Point{X: k, Y: 2k, Label: "pt-<k>"}   (on the heap)
//	    tags = []string{"a", "bb"}          when k is even,
//	           []string{"a", "bb", "ccc"}   when k is odd   (len = cap)
//	  and returns n + X + Y + len(name) + the lengths of the tags
//	  (stored in main.sink).  The line marked BODY is in handle's body,
//	  after `total` is computed, for a tracepoint inside the function.
//	describe(v) with v (an `any`) = p (the *Point above) when k is even,
//	  int64(n) when k is odd; returns X (or n).  main.pointType holds the
//	  type word of an `any` holding a *Point (so a test can tell which
//	  of the two v holds: Go 1.19 emits no symbol per type).
//	stats(m, c) with m a map[string]int64 holding len(tags) + 1 entries
//	  ("k0".."k<len>" -> 0..len), c a chan int64 with buffer 4 holding
//	  k % 4 values; returns len(m) * 10 + len(c).
//
//	pair(k) returns (3k, "even") or (3k + 1, "odd"); a goroutine loops on
//	  wait(c), which blocks until main sends k on c (once per loop).
//
// Every function is //go:noinline.  Go 1.17 and later (Debian's go is 1.19)
// pass arguments of Go functions in registers (ABIInternal) for every Go
// function: the stack ABI (ABI0) is only used by assembly functions and
// their wrappers, which have no DWARF parameters, so this program has
// register-ABI functions only.
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"time"
	"unsafe"
)

type Point struct {
	X, Y  int64
	Label string
}

var calls int64
var sink int64
var pointType uintptr

func init() {
	var v any = &Point{}
	pointType = (*[2]uintptr)(unsafe.Pointer(&v))[0]
}

//go:noinline
func handle(name string, n int64, p *Point, tags []string) int64 {
	total := n + p.X + p.Y + int64(len(name))
	for _, t := range tags {
		total += int64(len(t))
	}
	sink = total // BODY
	return total
}

//go:noinline
func describe(v any) int64 {
	switch x := v.(type) {
	case *Point:
		return x.X
	case int64:
		return x
	}
	return -1
}

//go:noinline
func stats(m map[string]int64, c chan int64) int64 {
	return int64(len(m))*10 + int64(len(c))
}

// pair(k) returns (3k, "even") for an even k, (3k + 1, "odd") for an odd one.
//
//go:noinline
func pair(k int64) (int64, string) {
	if k%2 == 0 {
		return 3 * k, "even"
	}
	return 3*k + 1, "odd"
}

// wait blocks on c until main sends (every loop, about 5 ms later): its
// goroutine may resume on another thread.  Returns the value + 1.
//
//go:noinline
func wait(c chan int64) int64 {
	return <-c + 1
}

func main() {
	waits := make(chan int64)
	go func() {
		for {
			wait(waits)
		}
	}()
	fmt.Printf("ready %d\n", os.Getpid())
	os.Stdout.Sync()
	for k := int64(0); ; k++ {
		tags := []string{"a", "bb"}
		if k%2 == 1 {
			tags = []string{"a", "bb", "ccc"}
		}
		p := &Point{X: k, Y: 2 * k, Label: "pt-" + strconv.FormatInt(k, 10)}
		handle("req-"+strconv.FormatInt(k, 10), 100+k, p, tags)
		if k%2 == 0 {
			describe(p)
		} else {
			describe(100 + k)
		}
		m := make(map[string]int64)
		for i := 0; i <= len(tags); i++ {
			m["k"+strconv.Itoa(i)] = int64(i)
		}
		c := make(chan int64, 4)
		for i := int64(0); i < k%4; i++ {
			c <- i
		}
		stats(m, c)
		pair(k)
		select {
		case waits <- k:
		default:
		}
		atomic.StoreInt64(&calls, k+1)
		time.Sleep(5 * time.Millisecond)
	}
}
