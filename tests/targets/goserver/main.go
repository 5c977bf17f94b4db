// goserver - a Go HTTP server used as a live test target.
//
// Usage: goserver PORT   (PORT 0 picks a free port on 127.0.0.1)
//
// It prints "ready <pid> <port>" on stdout once it listens.
// GET /e?iterations=N answers computeE(N) (an approximation of e), the
// function tracepoint tests put a probe on.  A goroutine increments the
// global counter every 2 ms, so "print main.counter" advances.
// GET /greet?name=S answers greet(S) ("hello, S"): greet is noinline and
// takes a Go string, for string collection tests; main.greetings counts
// its calls.
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"
)

var counter int64

//go:noinline
func computeE(iterations int64) float64 {
	res := 2.0
	fact := 1.0
	for i := int64(2); i < iterations; i++ {
		fact *= float64(i)
		res += 1 / fact
	}
	return res
}

var greetings int64

//go:noinline
func greet(name string) string {
	atomic.AddInt64(&greetings, 1)
	return "hello, " + name
}

func handleGreet(w http.ResponseWriter, r *http.Request) {
	fmt.Fprintln(w, greet(r.URL.Query().Get("name")))
}

func handleE(w http.ResponseWriter, r *http.Request) {
	iterations, err := strconv.ParseInt(r.URL.Query().Get("iterations"), 10, 64)
	if err != nil {
		http.Error(w, "iterations: "+err.Error(), http.StatusBadRequest)
		return
	}
	fmt.Fprintf(w, "%v\n", computeE(iterations))
}

func main() {
	port := "0"
	if len(os.Args) > 1 {
		port = os.Args[1]
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		fmt.Fprintln(os.Stderr, "goserver:", err)
		os.Exit(1)
	}
	go func() {
		for {
			atomic.AddInt64(&counter, 1)
			time.Sleep(2 * time.Millisecond)
		}
	}()
	http.HandleFunc("/e", handleE)
	http.HandleFunc("/greet", handleGreet)
	fmt.Printf("ready %d %d\n", os.Getpid(), ln.Addr().(*net.TCPAddr).Port)
	os.Stdout.Sync()
	if err := http.Serve(ln, nil); err != nil {
		fmt.Fprintln(os.Stderr, "goserver:", err)
		os.Exit(1)
	}
}
