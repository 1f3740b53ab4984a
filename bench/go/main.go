// Command xchan-bench-go is the Go peer of the xchan benchmarks: the same rows
// as bench/c (xchan) and bench/rust (crossbeam-channel), written with plain Go
// channels, goroutines and select.  Run it with GOMAXPROCS=2 (the harness does).
//
//	xchan-bench-go ROW [--n N] [--cap C]
//
// prints one JSON line on stdout and exits non-zero when a check fails (a lost,
// duplicated or reordered value).  See bench/README.md for what each row measures.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type result struct {
	Row      string         `json:"row"`
	Impl     string         `json:"impl"`
	N        int64          `json:"n"`
	Cap      int64          `json:"cap"`
	NsPerMsg float64        `json:"ns_per_msg"`
	Extra    map[string]any `json:"extra"`
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "xchan-bench-go: FAILED: "+format+"\n", args...)
	os.Exit(1)
}

func check(ok bool, format string, args ...any) {
	if !ok {
		fail(format, args...)
	}
}

// part returns the half-open range of values [lo, hi) that worker p of k sends
// out of n: together the workers send every value 0..n-1 exactly once.
func part(n int64, p, k int) (int64, int64) {
	return n * int64(p) / int64(k), n * int64(p+1) / int64(k)
}

// vmhwmKiB is the peak resident memory of this process image (VmHWM), or -1.
// Not getrusage: its ru_maxrss keeps the peak of the process that exec'd us.
func vmhwmKiB() int64 { return procStatusKiB("VmHWM") }

// procStatusKiB reads a memory field of /proc/self/status ("VmRSS",
// "VmHWM"), in KiB, or -1.
func procStatusKiB(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == field+":" {
			if v, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				return v
			}
		}
	}
	return -1
}

func triangle(n int64) int64 { return n * (n - 1) / 2 } // 0 + 1 + ... + n-1

func makeChan(c int64) chan int64 { return make(chan int64, c) }

// ---- rows ------------------------------------------------------------------

func seq(n, c int64) {
	check(c >= n, "seq rows need cap >= n (cap %d, n %d)", c, n)
	ch := makeChan(c)
	for i := int64(0); i < n; i++ {
		ch <- i
	}
	var sum int64
	for i := int64(0); i < n; i++ {
		sum += <-ch
	}
	check(sum == triangle(n), "sum %d want %d", sum, triangle(n))
}

// prodCons: np producers and nc consumers on one channel, each producer sends
// its part, the last one closes; consumers receive until closed.
func prodCons(n, c int64, np, nc int) map[string]any {
	ch := makeChan(c)
	var pw, cw sync.WaitGroup
	sums := make([]int64, nc)
	counts := make([]int64, nc)
	for k := 0; k < nc; k++ {
		cw.Add(1)
		go func(k int) {
			defer cw.Done()
			var s, cnt int64
			for v := range ch {
				s += v
				cnt++
			}
			sums[k], counts[k] = s, cnt
		}(k)
	}
	for p := 0; p < np; p++ {
		pw.Add(1)
		go func(p int) {
			defer pw.Done()
			lo, hi := part(n, p, np)
			for i := lo; i < hi; i++ {
				ch <- i
			}
		}(p)
	}
	pw.Wait()
	close(ch)
	cw.Wait()
	var sum, cnt int64
	for k := range sums {
		sum += sums[k]
		cnt += counts[k]
	}
	check(cnt == n, "received %d want %d", cnt, n)
	check(sum == triangle(n), "sum %d want %d", sum, triangle(n))
	return map[string]any{"per_consumer": counts}
}

func pingpong(rounds int64) {
	ping, pong := make(chan int64), make(chan int64)
	go func() {
		for v := range ping {
			pong <- v + 1
		}
	}()
	var sum int64
	for i := int64(0); i < rounds; i++ {
		ping <- i
		sum += <-pong
	}
	close(ping)
	check(sum == triangle(rounds)+rounds, "sum %d want %d", sum, triangle(rounds)+rounds)
}

func selectRx(n, c int64) map[string]any {
	var chs [4]chan int64
	for k := range chs {
		chs[k] = makeChan(c)
	}
	var stop atomic.Bool
	for k := range chs {
		go func(ch chan int64) {
			for v := int64(0); !stop.Load(); v++ {
				ch <- v
			}
			close(ch)
		}(chs[k])
	}
	var next [4]int64
	got := func(k int, v int64) {
		check(v == next[k], "channel %d: got %d want %d", k, v, next[k])
		next[k]++
	}
	for i := int64(0); i < n; i++ {
		select {
		case v := <-chs[0]:
			got(0, v)
		case v := <-chs[1]:
			got(1, v)
		case v := <-chs[2]:
			got(2, v)
		case v := <-chs[3]:
			got(3, v)
		}
	}
	stop.Store(true)
	for k := range chs {
		for range chs[k] {
		}
	}
	return fairness("per_channel", next[:], n)
}

// choiceProbe measures select's own choice, without the scheduler: 4 full
// channels, one goroutine; each select takes from one and refills it at once.
// Not timed.
func choiceProbe(k int64) map[string]any {
	var chs [4]chan int64
	for i := range chs {
		chs[i] = make(chan int64, 1)
		chs[i] <- int64(i)
	}
	counts := make([]int64, 4)
	for j := int64(0); j < k; j++ {
		select {
		case v := <-chs[0]:
			counts[v]++
			chs[0] <- v
		case v := <-chs[1]:
			counts[v]++
			chs[1] <- v
		case v := <-chs[2]:
			counts[v]++
			chs[2] <- v
		case v := <-chs[3]:
			counts[v]++
			chs[3] <- v
		}
	}
	return fairness("choice_counts", counts, k)
}

func fairness(key string, counts []int64, n int64) map[string]any {
	var total int64
	lo, hi := counts[0], counts[0]
	for _, c := range counts {
		total += c
		lo, hi = min(lo, c), max(hi, c)
	}
	check(total == n, "%s: received %d want %d", key, total, n)
	mean := float64(n) / float64(len(counts))
	spread := 0.0
	if mean > 0 {
		spread = float64(hi-lo) / mean
	}
	return map[string]any{key: counts, key + "_spread": spread,
		key + "_within_10pct": float64(hi)-mean <= 0.1*mean && mean-float64(lo) <= 0.1*mean}
}

func selectBoth(n, c int64) {
	var chs [4]chan int64
	for k := range chs {
		chs[k] = makeChan(c)
	}
	var wg sync.WaitGroup
	sums := make([]int64, 4)
	for p := 0; p < 4; p++ {
		wg.Add(2)
		go func(p int) {
			defer wg.Done()
			lo, hi := part(n, p, 4)
			for v := lo; v < hi; v++ {
				select {
				case chs[0] <- v:
				case chs[1] <- v:
				case chs[2] <- v:
				case chs[3] <- v:
				}
			}
		}(p)
		go func(p int) {
			defer wg.Done()
			lo, hi := part(n, p, 4)
			var s int64
			for i := lo; i < hi; i++ {
				select {
				case v := <-chs[0]:
					s += v
				case v := <-chs[1]:
					s += v
				case v := <-chs[2]:
					s += v
				case v := <-chs[3]:
					s += v
				}
			}
			sums[p] = s
		}(p)
	}
	wg.Wait()
	var sum int64
	for _, s := range sums {
		sum += s
	}
	check(sum == triangle(n), "sum %d want %d", sum, triangle(n))
}

func percentile(sorted []int64, p float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p * float64(len(sorted)-1))
	return sorted[i]
}

// altsTimeout: phase a is timed (ns per op); phase b is reported in extra.
func altsTimeout(n, c int64) (time.Duration, map[string]any) {
	ch := makeChan(c)
	go func() {
		for i := int64(0); i < n; i++ {
			ch <- i
		}
	}()
	done := make(chan int64)
	t0 := time.Now()
	go func() {
		var sum int64
		for i := int64(0); i < n; i++ {
			select {
			case v := <-ch:
				sum += v
			case <-time.After(time.Hour):
				fail("a 1 h timeout fired")
			}
		}
		done <- sum
	}()
	sum := <-done
	elapsed := time.Since(t0)
	check(sum == triangle(n), "sum %d want %d", sum, triangle(n))

	timers := min(n, 100000)
	late := make([]int64, timers)
	var wg sync.WaitGroup
	wg.Add(int(timers))
	tb := time.Now()
	for i := int64(0); i < timers; i++ {
		go func(i int64) {
			start := time.Now()
			<-time.After(time.Millisecond)
			late[i] = time.Since(start).Nanoseconds() - int64(time.Millisecond)
			wg.Done()
		}(i)
	}
	wg.Wait()
	phaseB := time.Since(tb)
	sort.Slice(late, func(a, b int) bool { return late[a] < late[b] })
	check(late[0] >= 0, "a 1 ms timer fired %d ns early", -late[0])
	return elapsed, map[string]any{
		"timers": timers, "timer_phase_s": phaseB.Seconds(),
		"late_p50_us": float64(percentile(late, 0.50)) / 1e3,
		"late_p99_us": float64(percentile(late, 0.99)) / 1e3,
		"late_max_us": float64(late[len(late)-1]) / 1e3,
	}
}

func fullDropping(n, c int64) {
	ch := makeChan(c)
	for i := int64(0); i < c; i++ {
		ch <- i
	}
	var dropped int64
	for i := int64(0); i < n; i++ {
		select {
		case ch <- c + i:
		default:
			dropped++
		}
	}
	check(dropped == n, "dropped %d want %d", dropped, n)
	for i := int64(0); i < c; i++ {
		v := <-ch
		check(v == i, "kept %d want %d", v, i)
	}
}

func fullSliding(n, c int64) {
	ch := makeChan(c)
	for i := int64(0); i < c; i++ {
		ch <- i
	}
	// core.async's sliding buffer, the Go way: when full, drop the oldest.
	for i := int64(0); i < n; i++ {
		v := c + i
		select {
		case ch <- v:
			fail("put on a full channel succeeded")
		default:
			<-ch
			ch <- v
		}
	}
	for i := int64(0); i < c; i++ {
		v := <-ch
		check(v == n+i, "kept %d want %d", v, n+i)
	}
}

func failedPoll(n, c int64) {
	ch := makeChan(c)
	var fails int64
	for i := int64(0); i < n; i++ {
		select {
		case <-ch:
		default:
			fails++
		}
	}
	check(fails == n, "failed polls %d want %d", fails, n)
}

func spawn(n int64) {
	res := make([]int64, n)
	var wg sync.WaitGroup
	wg.Add(int(n))
	for i := int64(0); i < n; i++ {
		go func(i int64) {
			res[i] = i
			wg.Done()
		}(i)
	}
	wg.Wait()
	var sum int64
	for _, v := range res {
		sum += v
	}
	check(sum == triangle(n), "sum %d want %d", sum, triangle(n))
}

// scale: w independent producer/consumer pairs, each on its own channel of
// capacity c, n messages in all.  Go has only goroutines, so the "thr" and
// "task" scale rows run the same code here.
func scale(n, c int64, w int) {
	var wg sync.WaitGroup
	sums := make([]int64, w)
	counts := make([]int64, w)
	for k := 0; k < w; k++ {
		ch := makeChan(c)
		wg.Add(2)
		go func(k int) {
			defer wg.Done()
			var s, cnt int64
			for v := range ch {
				s += v
				cnt++
			}
			sums[k], counts[k] = s, cnt
		}(k)
		go func(k int) {
			defer wg.Done()
			lo, hi := part(n, k, w)
			for i := lo; i < hi; i++ {
				ch <- i
			}
			close(ch)
		}(k)
	}
	wg.Wait()
	var sum, cnt int64
	for k := range sums {
		sum += sums[k]
		cnt += counts[k]
	}
	check(cnt == n, "received %d want %d", cnt, n)
	check(sum == triangle(n), "sum %d want %d", sum, triangle(n))
}

// vmrssKiB is the current resident memory (VmRSS), or -1.
func vmrssKiB() int64 { return procStatusKiB("VmRSS") }

// memTask: n goroutines parked on a receive; RSS growth per goroutine, in
// bytes.  They park in groups of 1000 per channel, as the xchan side does.
func memTask(n int64) (float64, map[string]any) {
	groups := (n + 999) / 1000
	blocks := make([]chan int64, groups)
	for g := range blocks {
		blocks[g] = make(chan int64)
	}
	var started atomic.Int64
	var wg sync.WaitGroup
	before := vmrssKiB()
	wg.Add(int(n))
	for i := int64(0); i < n; i++ {
		go func(b chan int64) {
			defer wg.Done()
			started.Add(1)
			_, ok := <-b
			check(!ok, "a parked goroutine received a value")
		}(blocks[i/1000])
	}
	for started.Load() < n {
		runtime.Gosched()
	}
	time.Sleep(50 * time.Millisecond)
	after := vmrssKiB()
	for _, b := range blocks {
		close(b)
	}
	wg.Wait()
	return float64(after-before) * 1024 / float64(n),
		map[string]any{"rss_before_kib": before, "rss_parked_kib": after, "unit": "bytes per parked goroutine"}
}

// memChan: n idle channels of capacity c; RSS growth per channel, in bytes.
func memChan(n, c int64) (float64, map[string]any) {
	before := vmrssKiB()
	chs := make([]chan int64, n)
	for i := range chs {
		chs[i] = make(chan int64, c)
	}
	after := vmrssKiB()
	runtime.KeepAlive(chs)
	return float64(after-before) * 1024 / float64(n),
		map[string]any{"rss_before_kib": before, "rss_made_kib": after, "unit": "bytes per idle channel (and its slice slot)"}
}

// ---- main ------------------------------------------------------------------

var defaults = map[string][2]int64{ // row: {n, cap}; cap -1 means n
	"seq_bounded": {1000000, -1}, "seq_unbounded": {1000000, -1},
	"spsc_capN": {1000000, 1024}, "spsc_cap1": {1000000, 1},
	"pingpong_cap0": {100000, 0}, "pingpong_task": {100000, 0},
	"mpsc": {1000000, 1024}, "mpmc_capN": {1000000, 1024}, "mpmc_cap0": {1000000, 0},
	"prodcons_task_cap0": {1000000, 0}, "prodcons_task_cap10": {1000000, 10},
	"prodcons_task_cap100": {1000000, 100},
	"select_rx":            {1000000, 1}, "select_both": {1000000, 1},
	"alts_timeout_task": {1000000, 1024},
	"full_dropping":     {10000000, 64}, "full_sliding": {10000000, 64}, "failed_poll": {10000000, 64},
	"spawn_task": {100000, 0},
	"mem_task":   {100000, 0}, "mem_chan": {100000, 1},
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: xchan-bench-go ROW [--n N] [--cap C]\nrows:")
	rows := make([]string, 0, len(defaults))
	for r := range defaults {
		rows = append(rows, r)
	}
	sort.Strings(rows)
	for _, r := range rows {
		fmt.Fprintln(os.Stderr, "  "+r)
	}
	os.Exit(2)
}

func main() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(2)
	}
	if len(os.Args) < 2 {
		usage()
	}
	row := os.Args[1]
	d, ok := defaults[row]
	var scaleOn string
	var scaleCap int64
	var scaleW int
	if !ok {
		if k, err := fmt.Sscanf(strings.ReplaceAll(row, "_", " "), "scale %s cap%d w%d", &scaleOn, &scaleCap, &scaleW); err == nil && k == 3 &&
			(scaleOn == "thr" || scaleOn == "task") && scaleW >= 1 && scaleW <= 1024 {
			d, ok = [2]int64{1000000, scaleCap}, true
		}
	}
	if !ok {
		fmt.Fprintf(os.Stderr, "xchan-bench-go: unknown row %q\n", row)
		usage()
	}
	n, c := d[0], d[1]
	capSet := false
	for i := 2; i < len(os.Args); i++ {
		if i+1 >= len(os.Args) {
			usage()
		}
		v, err := strconv.ParseInt(os.Args[i+1], 10, 64)
		if err != nil || v < 0 {
			usage()
		}
		switch os.Args[i] {
		case "--n":
			n = v
		case "--cap":
			c, capSet = v, true
		default:
			usage()
		}
		i++
	}
	if n <= 0 {
		usage()
	}
	if c < 0 && !capSet {
		c = n
	}
	extra := map[string]any{"goversion": runtime.Version(), "gomaxprocs": runtime.GOMAXPROCS(0)}
	msgs := n
	t0 := time.Now()
	var elapsed time.Duration
	switch row {
	case "seq_bounded", "seq_unbounded":
		seq(n, c)
	case "spsc_capN", "spsc_cap1":
		prodCons(n, c, 1, 1)
	case "pingpong_cap0", "pingpong_task":
		pingpong(n)
		msgs = 2 * n
		extra["round_trips"] = n
		extra["note"] = "goroutines; ns_per_msg is one-way (round trip / 2)"
	case "mpsc":
		prodCons(n, c, 4, 1)
	case "mpmc_capN", "mpmc_cap0":
		for k, v := range prodCons(n, c, 4, 4) {
			extra[k] = v
		}
	case "prodcons_task_cap0", "prodcons_task_cap10", "prodcons_task_cap100":
		prodCons(n, c, 2, 2)
	case "select_rx":
		for k, v := range selectRx(n, c) {
			extra[k] = v
		}
	case "select_both":
		selectBoth(n, c)
	case "alts_timeout_task":
		e, x := altsTimeout(n, c)
		elapsed = e
		for k, v := range x {
			extra[k] = v
		}
	case "full_dropping":
		fullDropping(n, c)
	case "full_sliding":
		fullSliding(n, c)
	case "failed_poll":
		failedPoll(n, c)
	case "spawn_task":
		spawn(n)
	case "mem_task", "mem_chan":
		var per float64
		var x map[string]any
		if row == "mem_task" {
			per, x = memTask(n)
		} else {
			per, x = memChan(n, c)
		}
		for k, v := range x {
			extra[k] = v
		}
		extra["vmhwm_kib"] = vmhwmKiB()
		extra["msgs"] = n
		extra["elapsed_s"] = time.Since(t0).Seconds()
		out, _ := json.Marshal(result{row, "go", n, c, per, extra})
		fmt.Println(string(out))
		return
	default: // scale_{thr,task}_capC_wW
		scale(n, c, scaleW)
		extra["pairs"] = scaleW
	}
	if elapsed == 0 {
		elapsed = time.Since(t0)
	}
	if row == "select_rx" {
		for k, v := range choiceProbe(min(n, 100000)) { // not timed
			extra[k] = v
		}
	}
	extra["vmhwm_kib"] = vmhwmKiB()
	extra["msgs"] = msgs
	extra["elapsed_s"] = elapsed.Seconds()
	out, _ := json.Marshal(result{row, "go", n, c, float64(elapsed.Nanoseconds()) / float64(msgs), extra})
	fmt.Println(string(out))
}
