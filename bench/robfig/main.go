// robfig_burst: the robfig/cron v3 side of bench/burst_bench (same shape):
// 10,000 jobs on "* * * * * *", GOMAXPROCS=2 (the "2 workers"), each body
// records time.Now() minus its due second under a mutex, for 3 s. Prints
// robfig_burst_lateness_p50_us / _p99_us / _max_us.
//
// Built offline in GOPATH mode against Debian's golang-github-robfig-cron-dev
// (bench/run_burst_bench.sh does it):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o robfig_burst .
package main

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/robfig/cron"
)

func main() {
	const jobs = 10000
	runtime.GOMAXPROCS(2)
	var mu sync.Mutex
	samples := make([]int64, 0, jobs*4)
	c := cron.New(cron.WithSeconds())
	for i := 0; i < jobs; i++ {
		_, err := c.AddFunc("* * * * * *", func() {
			now := time.Now()
			// The due second: robfig fires on whole seconds.
			late := now.Sub(now.Truncate(time.Second))
			mu.Lock()
			samples = append(samples, late.Microseconds())
			mu.Unlock()
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	c.Start()
	time.Sleep(3 * time.Second)
	<-c.Stop().Done()
	mu.Lock()
	defer mu.Unlock()
	if len(samples) < jobs {
		fmt.Fprintf(os.Stderr, "robfig_burst: only %d fires in 3 s\n", len(samples))
		os.Exit(1)
	}
	sort.Slice(samples, func(a, b int) bool { return samples[a] < samples[b] })
	at := func(q float64) int64 { return samples[int(q*float64(len(samples)-1))] }
	fmt.Fprintf(os.Stderr, "(robfig burst: %d fires)\n", len(samples))
	fmt.Printf("robfig_burst_lateness_p50_us %d\n", at(0.50))
	fmt.Printf("robfig_burst_lateness_p99_us %d\n", at(0.99))
	fmt.Printf("robfig_burst_lateness_max_us %d\n", samples[len(samples)-1])
}
