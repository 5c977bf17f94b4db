// deepgo - target for deep collection of Go arguments (stub/deep.c).
//
// main calls handle(name, n, p, tags) every 2 ms with i = 0, 1, 2...:
//   name = names[i%2] ("alpha", "bravo-charlie"), n = i + 100,
//   p = &points[i%2]: {X: 3, Y: 4, Label: "origin"}, {X: -5, Y: 6, Label: "far"},
//   tags = []string{"a", "bb"}.
// Every 100th call it also calls kinds(err, any, m, c) (an error, an
// interface{} holding a *Point, a map[string]int and a chan int), whose
// parameters the DWARF layer's tests read as Go's interface, map and chan.
// It prints "ready <pid>" once running.
package main

import (
	"fmt"
	"os"
	"time"
)

type Point struct {
	X, Y  int64
	Label string
}

var sink int64

//go:noinline
func handle(name string, n int64, p *Point, tags []string) int64 {
	s := n + int64(len(name)) + p.X + p.Y + int64(len(p.Label))
	for _, t := range tags {
		s += int64(len(t))
	}
	return s
}

//go:noinline
func kinds(err error, any interface{}, m map[string]int, c chan int) int {
	n := len(m) + cap(c)
	if err != nil {
		n++
	}
	if any != nil {
		n++
	}
	return n
}

func main() {
	names := []string{"alpha", "bravo-charlie"}
	points := []*Point{{X: 3, Y: 4, Label: "origin"}, {X: -5, Y: 6, Label: "far"}}
	tags := []string{"a", "bb"}
	m := map[string]int{"one": 1}
	c := make(chan int, 4)
	fmt.Printf("ready %d\n", os.Getpid())
	for i := int64(0); ; i++ {
		sink += handle(names[i%2], i+100, points[i%2], tags)
		if i%100 == 0 {
			sink += int64(kinds(os.ErrNotExist, points[0], m, c))
		}
		time.Sleep(2 * time.Millisecond)
	}
}
