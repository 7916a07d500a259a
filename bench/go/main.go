// Go counterparts of bench_x_chan.c, run with GOMAXPROCS=1 by
// go_baseline.sh: a 64-slot buffered channel between one producer and one
// consumer, and a two-channel select round trip.
package main

import (
	"fmt"
	"os"
	"runtime"
	"time"
)

func buffered(n int) float64 {
	ch := make(chan uintptr, 64)
	done := make(chan uintptr)
	go func() {
		var sum uintptr
		for i := 0; i < n; i++ {
			sum += <-ch
		}
		done <- sum
	}()
	t0 := time.Now()
	for i := 1; i <= n; i++ {
		ch <- uintptr(i)
	}
	if <-done != uintptr(n)*uintptr(n+1)/2 {
		panic("sum")
	}
	return float64(time.Since(t0).Nanoseconds()) / float64(n)
}

func selectRoundTrip(n int) float64 {
	req := make(chan int)
	rep := [2]chan int{make(chan int), make(chan int)}
	go func() {
		for i := 0; i < n; i++ {
			k := <-req
			rep[k] <- k
		}
	}()
	t0 := time.Now()
	for i := n - 1; i >= 0; i-- {
		req <- i & 1
		select {
		case k := <-rep[0]:
			if k != i&1 {
				panic("case")
			}
		case k := <-rep[1]:
			if k != i&1 {
				panic("case")
			}
		}
	}
	return float64(time.Since(t0).Nanoseconds()) / float64(n)
}

func main() {
	procs := runtime.GOMAXPROCS(0)
	switch os.Args[1] {
	case "buffered":
		fmt.Printf("go(P=%d) buffered_chan64 ns_per_message %.2f\n", procs, buffered(4000000))
	case "select":
		fmt.Printf("go(P=%d) select2 ns_per_round_trip %.2f\n", procs, selectRoundTrip(1000000))
	}
}
