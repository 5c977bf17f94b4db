// deepgo - target for deep collection of Go arguments (stub/deep.c).
//
// main calls handle(name, n, p, tags) every 2 ms with i = 0, 1, 2...:
//   name = names[i%2] ("alpha", "bravo-charlie"), n = i + 100,
//   p = &points[i%2]: {X: 3, Y: 4, Label: "origin"}, {X: -5, Y: 6, Label: "far"},
//   tags = []string{"a", "bb"}.
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

func main() {
	names := []string{"alpha", "bravo-charlie"}
	points := []*Point{{X: 3, Y: 4, Label: "origin"}, {X: -5, Y: 6, Label: "far"}}
	tags := []string{"a", "bb"}
	fmt.Printf("ready %d\n", os.Getpid())
	for i := int64(0); ; i++ {
		sink += handle(names[i%2], i+100, points[i%2], tags)
		time.Sleep(2 * time.Millisecond)
	}
}
