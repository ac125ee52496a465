// Package bench measures the manager on the simulated GPU cluster: how fast workloads become
// pods against a raw client creating the same pods, apply-to-pods latency under a steady
// rate, API writes per workload, writes from an idle cluster, and the manager's peak memory.
// Run it with `make bench`; it prints a table. Numbers on a shared 2-core machine are noisy:
// compare ratios measured in one run.
package bench

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/manager"
	"github.com/dora-hpc/dora-operator/internal/memlimit"
	"github.com/dora-hpc/dora-operator/internal/podspec"
	"github.com/dora-hpc/dora-operator/internal/simcluster"
)

var (
	managerBin  = flag.String("manager", "../../bin/manager", "the manager binary to measure")
	workloads   = flag.Int("workloads", 1000, "workloads in the throughput phase")
	replicas    = flag.Int("replicas", 4, "replicas per workload")
	nodes       = flag.Int("nodes", 250, "fake GPU nodes")
	rate        = flag.Int("rate", 50, "workloads per second in the latency phase")
	rateFor     = flag.Duration("rate-for", 10*time.Second, "length of the latency phase")
	probeFor    = flag.Duration("probe-for", 5*time.Second, "length of each rate probed for the highest sustained rate; 0 skips the probes")
	idleFor     = flag.Duration("idle-for", time.Minute, "how long the settled cluster is watched for writes")
	workers     = flag.Int("workers", 16, "parallel creators, for the raw client and for applying workloads")
	scale       = flag.String("scale", "", "a preset of -workloads and -nodes: small (200 on 100), large (10,000 on 1,000); empty keeps the flags")
	pprofAddr   = flag.String("pprof", "", "serve the manager's Go profiles at this address (such as 127.0.0.1:6060) during the run")
	managerArgs = flag.String("manager-args", "", "more flags for the manager, space-separated (such as --kube-api-qps=200), to compare settings; the table is of the shipped defaults without it")
	profileDir  = flag.String("profile-dir", "", "with -pprof: write the manager's CPU profile of the throughput phase (cpu-NNN.pprof, 10 s each: give them all to go tool pprof) and its heap once settled (heap.pprof) here")
)

// benchUser is the Dora user the workloads are applied as: the owner webhook stamps them,
// so their pods are charged by the credit controller, as a user's would be.
const benchUser = "bench.user"

// applyScale sets -workloads and -nodes from -scale.
func applyScale(b *testing.B) {
	switch *scale {
	case "":
	case "small":
		*workloads, *nodes = 200, 100
	case "large":
		*workloads, *nodes = 10000, 1000
	default:
		b.Fatalf("-scale=%q: use small or large (or set -workloads and -nodes)", *scale)
	}
}

func BenchmarkWorkloadsToPods(b *testing.B) {
	ctrl.SetLogger(logr.Discard())
	ctx := context.Background()
	applyScale(b)
	root, err := simcluster.RepoRoot()
	if err != nil {
		b.Fatal(err)
	}
	// Room for the raw client's pods and the manager's: the raw ones stay (deleting thousands
	// of pods at once only times out on this machine).
	gpusPerNode := 2 * ((*workloads**replicas + *nodes - 1) / *nodes)
	fleet := simcluster.Fleet{{Name: "gpu", Count: *nodes, GPUProduct: "NVIDIA H100 80GB HBM3", GPUs: gpusPerNode, GPUMemoryMiB: 81559, CPUs: 128, MemoryGiB: 1024}}
	// The admission webhooks are in the measured path, as in a cluster.
	// Two-minute node leases: kwok renews a thousand 40-second ones 100 times a second,
	// load that is neither the raw client's nor the manager's.
	cluster, err := simcluster.Start(ctx, simcluster.Options{Fleet: fleet, WebhookDirs: []string{filepath.Join(root, "config", "webhook")}, NodeLeaseSeconds: 120, QuietKwok: true, KwokPodParallelism: 16})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = cluster.Stop() }()
	c, err := client.New(cluster.Config, client.Options{Scheme: manager.Scheme()})
	if err != nil {
		b.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(cluster.Config)

	mgr, err := startManager(cluster)
	if err != nil {
		b.Fatal(err)
	}
	defer mgr.stop()

	for _, ns := range append([]string{"bench-raw", "bench-op", "bench-rawlat", "bench-lat"}, rateNamespaces()...) {
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			b.Fatal(err)
		}
	}
	userClient := setUpUser(ctx, b, cluster, c)
	specs := make([]*doradev1.Workload, *workloads)
	for i := range specs {
		specs[i] = benchWorkload("bench-op", fmt.Sprintf("w%04d", i), int32(*replicas), 1)
	}
	total := *workloads * *replicas

	// (a) a raw client creating the very pods the manager would, then the manager.
	var pods []*corev1.Pod
	for _, wl := range specs {
		for i := 0; i < *replicas; i++ {
			pod, err := podspec.BuildPod(wl, int32(i), podspec.PodInputs{})
			if err != nil {
				b.Fatal(err)
			}
			pod.Namespace = "bench-raw"
			// A raw client's pods are not the manager's: without Dora's workload label they are
			// not in its cache (as a user's other pods would not be), and without the credit
			// controller's finalizer not its work either.
			rawPod(pod)
			pods = append(pods, pod)
		}
	}
	rawStart := time.Now()
	parallel(len(pods), *workers, func(i int) error { return c.Create(ctx, pods[i]) }, b)
	rawTime := time.Since(rawStart)
	// Let the scheduler and kwok finish with the raw pods before the manager's turn: kwok
	// running the last of tens of thousands of them would be load on the manager's phase
	// that the raw client's did not have.
	waitPodsRun(ctx, b, c, "bench-raw")

	// The manager's own start (a Dora Node for every node) is done before it is measured.
	mgr.waitQuiet(b, 5*time.Second)
	serverBefore := serverRequests(ctx, b, cs)
	writesBefore := mgr.writes(b)
	metricsBefore := mgr.metrics(b)
	cpuBefore := mgr.cpuSeconds(b)
	seen := watchPods(ctx, b, cs, "bench-op")
	statuses := countStatusWrites(b, cluster.Config, "bench-op")
	profiled := mgr.profileCPU(b)
	opStart := time.Now()
	parallel(len(specs), *workers, func(i int) error { return userClient.Create(ctx, specs[i]) }, b)
	seen.waitCount(b, total, phaseTimeout())
	opTime := time.Since(opStart)
	seen.stop()
	// Said at once: a big run that stops later still tells its main figure.
	fmt.Printf("all %d pods: raw client %.1fs, manager %.1fs (%.2fx)\n", total, rawTime.Seconds(), opTime.Seconds(), rawTime.Seconds()/opTime.Seconds())

	// Settle: every workload Running, and the manager quiet for a few seconds.
	waitForEvery(b, phaseTimeout(), time.Second, "workloads to run", func() (bool, error) {
		l := &doradev1.WorkloadList{}
		if err := c.List(ctx, l, client.InNamespace("bench-op")); err != nil {
			return false, nil
		}
		for _, wl := range l.Items {
			if wl.Status.Phase != doradev1.WorkloadPhaseRunning {
				return false, nil
			}
		}
		return true, nil
	})
	// Quiet for longer than the manager's longest deferred write (the Zone's counts, 15 s;
	// a UserCredit's burn rate, 10 s): those are the tail of coming up, not idle writes.
	settled := mgr.waitQuiet(b, 20*time.Second)
	statusHistogram := statuses.histogram()
	// The peak while the throughput phase's workloads are all there, before the latency and
	// rate phases add theirs.
	settledRSS := mgr.peakRSS(b)
	writesPerWorkload := float64(settled.total()-writesBefore.total()) / float64(*workloads)
	breakdown := writeBreakdown(ctx, b, c, "bench-op", settled.sub(writesBefore), total)
	cpuPerThousand := (mgr.cpuSeconds(b) - cpuBefore) / float64(*workloads) * 1000
	shares := mgr.metrics(b).sub(metricsBefore)
	serverTop := serverRequests(ctx, b, cs).sub(serverBefore).top(12)
	profiled()
	mgr.fetchProfile(b, "heap.pprof", "heap")

	// (d) the settled cluster, watched for writes.
	idleStart := mgr.writes(b)
	time.Sleep(*idleFor) // the measurement is the interval itself
	idleWrites := mgr.writes(b).total() - idleStart.total()
	idlePerMinute := float64(idleWrites) / idleFor.Minutes()

	// (b) apply -> all pods created, at a steady rate: a raw client creating each
	// workload's pods itself, then the manager.
	rawLatencies := steadyRate(ctx, b, cs, "bench-rawlat", func(wl *doradev1.Workload) error {
		errs := make(chan error, *replicas)
		for i := 0; i < *replicas; i++ {
			go func() {
				pod, err := podspec.BuildPod(wl, int32(i), podspec.PodInputs{})
				if err == nil {
					rawPod(pod)
					err = c.Create(ctx, pod)
				}
				errs <- err
			}()
		}
		var first error
		for i := 0; i < *replicas; i++ {
			if err := <-errs; err != nil && first == nil {
				first = err
			}
		}
		return first
	})
	waitPodsRun(ctx, b, c, "bench-rawlat")
	latencies := steadyRate(ctx, b, cs, "bench-lat", func(wl *doradev1.Workload) error { return userClient.Create(ctx, wl) })
	waitPodsRun(ctx, b, c, "bench-lat")
	sustained, probes := highestSustained(ctx, b, cs, c, func(wl *doradev1.Workload) error { return userClient.Create(ctx, wl) })

	rss := mgr.peakRSS(b)
	extra := int(rateFor.Seconds()) * *rate
	for _, r := range probeRates[:len(probes)] {
		extra += r * int(probeFor.Seconds())
	}
	ratio := rawTime.Seconds() / opTime.Seconds()
	b.ReportMetric(ratio, "throughput-ratio")
	b.ReportMetric(pct(latencies, 0.99).Seconds(), "p99-s")
	b.ReportMetric(writesPerWorkload, "writes/workload")
	b.ReportMetric(idlePerMinute, "idle-writes/min")
	b.ReportMetric(float64(settledRSS)/(1<<20), "peak-rss-MiB")

	chart, err := chartDefaults()
	if err != nil {
		b.Fatal(err)
	}
	fmt.Printf(`
Dora manager on the simulated cluster: %d fake GPU nodes, %d workloads x %d replicas (%d pods), %d CPU cores
The manager runs with the Helm chart's defaults: --kube-api-qps=%v --kube-api-burst=%v, GOMEMLIMIT %d MiB (%.0f%% of the %d MiB container limit)%s
| figure | measured | target |
|---|---|---|
| (a) workloads -> pods throughput vs a raw client (same pods, same API server) | %.2fx (raw %.1fs, manager %.1fs) | >= 0.8x |
| (b) apply -> all pods created at %d workloads/s for %s: p50 / p99 | %s / %s (a raw client creating the pods itself: %s / %s) | p99 <= 2x the raw client's |
| (c) manager API writes per workload (%d replicas; from its own client metrics) | %.2f (%s) | <= %d |
| (c') the writes per workload by what they made; workloads by the number of status writes they took | %s; %s | |
| (b') highest rate the manager keeps up with (probed %s each; median apply -> pods of the first second -> of the last) | %d workloads/s (%s) | reported |
| (d) manager API writes per minute, settled and idle | %.1f | 0 |
| (e) manager peak RSS: with the throughput phase's workloads / at the end (%d more workloads of the latency and rate phases) | %.0f MiB / %.0f MiB | <= 256 MiB at 10,000 workloads |
| (f) manager CPU-seconds per 1,000 workloads (throughput phase) | %.1f | reported |
| (g) time inside the manager in the throughput phase: admission webhooks / workload reconciles / credit reconciles | %.1fs (%d requests) / %.1fs / %.1fs | reported |
| (h) the API server's requests in the manager's throughput phase, from everyone (the bench, scheduler, kwok, manager), most frequent first | %s | |
`, *nodes, *workloads, *replicas, total, runtime.NumCPU(), chart.qps, chart.burst, memlimit.Soft(chart.memoryLimit)>>20, memlimit.Share*100, chart.memoryLimit>>20, extraArgs(),
		ratio, rawTime.Seconds(), opTime.Seconds(), *rate, rateFor.String(),
		pct(latencies, 0.5).Round(time.Millisecond), pct(latencies, 0.99).Round(time.Millisecond),
		pct(rawLatencies, 0.5).Round(time.Millisecond), pct(rawLatencies, 0.99).Round(time.Millisecond),
		*replicas, writesPerWorkload, settled.sub(writesBefore).String(), *replicas+1, breakdown, statusHistogram, probeFor.String(), sustained, strings.Join(probes, "; "), idlePerMinute, extra, float64(settledRSS)/(1<<20), float64(rss)/(1<<20),
		cpuPerThousand, shares["webhook_seconds"], int(shares["webhook_requests"]), shares["reconcile_seconds_workload"], shares["reconcile_seconds_credits"], serverTop)
}

// writeBreakdown says what the manager's writes of the throughput phase (w) made, per
// workload: its pods, ControllerRevisions and events (by reason) in ns, and the rest (status
// writes of Workloads, UserCredits and the Zone, and any other).
func writeBreakdown(ctx context.Context, b *testing.B, c client.Client, ns string, w writeCounts, pods int) string {
	revisions := &appsv1.ControllerRevisionList{}
	if err := c.List(ctx, revisions, client.InNamespace(ns)); err != nil {
		b.Fatal(err)
	}
	events := &eventsv1.EventList{}
	if err := c.List(ctx, events, client.InNamespace(ns)); err != nil {
		b.Fatal(err)
	}
	byReason := map[string]int{}
	ours := 0
	for _, e := range events.Items {
		if strings.HasPrefix(e.ReportingController, "dora-") {
			byReason[e.Reason]++
			ours++
		}
	}
	reasons := make([]string, 0, len(byReason))
	for r, n := range byReason {
		reasons = append(reasons, fmt.Sprintf("%s %.2f", r, float64(n)/float64(*workloads)))
	}
	sort.Strings(reasons)
	per := func(n float64) string { return fmt.Sprintf("%.2f", n/float64(*workloads)) }
	otherPosts := w["POST"] - float64(pods) - float64(len(revisions.Items)) - float64(ours)
	return fmt.Sprintf("pods %s, ControllerRevisions %s, events %s [%s], other creates %s, PATCH/PUT (status and other updates) %s, DELETE %s",
		per(float64(pods)), per(float64(len(revisions.Items))), per(float64(ours)), strings.Join(reasons, ", "),
		per(otherPosts), per(w["PATCH"]+w["PUT"]), per(w["DELETE"]))
}

// extraArgs says which flags -manager-args added, for the table's header.
func extraArgs() string {
	if *managerArgs == "" {
		return ""
	}
	return "; and, not the defaults: " + *managerArgs
}

// statusWrites counts, per workload of a namespace, the updates that changed its status.
type statusWrites struct {
	stopCh chan struct{}
	mu     sync.Mutex
	count  map[string]int
}

func countStatusWrites(b *testing.B, cfg *rest.Config, ns string) *statusWrites {
	sw := &statusWrites{stopCh: make(chan struct{}), count: map[string]int{}}
	factory := dynamicinformer.NewFilteredDynamicSharedInformerFactory(dynamic.NewForConfigOrDie(cfg), 0, ns, nil)
	inf := factory.ForResource(doradev1.GroupVersion.WithResource("workloads")).Informer()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{UpdateFunc: func(o, n any) {
		before, okOld := o.(*unstructured.Unstructured)
		after, okNew := n.(*unstructured.Unstructured)
		if !okOld || !okNew || equality.Semantic.DeepEqual(before.Object["status"], after.Object["status"]) {
			return
		}
		sw.mu.Lock()
		sw.count[after.GetName()]++
		sw.mu.Unlock()
	}}); err != nil {
		b.Fatal(err)
	}
	factory.Start(sw.stopCh)
	if !cache.WaitForCacheSync(sw.stopCh, inf.HasSynced) {
		b.Fatal("workload informer did not sync")
	}
	return sw
}

// histogram stops counting and says how many workloads took each number of status
// writes: "1 write: 990, 2 writes: 10".
func (sw *statusWrites) histogram() string {
	close(sw.stopCh)
	sw.mu.Lock()
	defer sw.mu.Unlock()
	byCount := map[int]int{}
	for _, n := range sw.count {
		byCount[n]++
	}
	counts := make([]int, 0, len(byCount))
	for n := range byCount {
		counts = append(counts, n)
	}
	sort.Ints(counts)
	parts := make([]string, 0, len(counts))
	for _, n := range counts {
		parts = append(parts, fmt.Sprintf("%d status writes: %d", n, byCount[n]))
	}
	return strings.Join(parts, ", ")
}

// requestCounts are the API server's requests by verb and resource ("POST pods",
// "PATCH workloads/status"), from its apiserver_request_total.
type requestCounts map[string]float64

func serverRequests(ctx context.Context, b *testing.B, cs kubernetes.Interface) requestCounts {
	raw, err := cs.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		b.Fatal(err)
	}
	label := func(line, name string) string {
		i := strings.Index(line, name+`="`)
		if i < 0 {
			return ""
		}
		v := line[i+len(name)+2:]
		return v[:strings.IndexByte(v, '"')]
	}
	out := requestCounts{}
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(line, "apiserver_request_total{") {
			continue
		}
		fields := strings.Fields(line)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err != nil {
			continue
		}
		key := label(line, "verb") + " " + label(line, "resource")
		if sub := label(line, "subresource"); sub != "" {
			key += "/" + sub
		}
		out[key] += v
	}
	return out
}

func (r requestCounts) sub(o requestCounts) requestCounts {
	out := requestCounts{}
	for k, v := range r {
		if d := v - o[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}

// top is the n most frequent, as "POST pods 4000, ...".
func (r requestCounts) top(n int) string {
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return r[keys[i]] > r[keys[j]] || r[keys[i]] == r[keys[j]] && keys[i] < keys[j] })
	var parts []string
	for _, k := range keys[:min(n, len(keys))] {
		parts = append(parts, fmt.Sprintf("%s %.0f", k, r[k]))
	}
	return strings.Join(parts, ", ")
}

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[min(len(d)-1, int(float64(len(d))*p))]
}

// benchWorkload is a workload of replicas pods with gpus GPUs each.
func benchWorkload(ns, name string, replicas, gpus int32) *doradev1.Workload {
	wl := &doradev1.Workload{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: doradev1.WorkloadSpec{
			Replica: &doradev1.ReplicaSpec{Count: ptr.To(replicas)},
			Image:   doradev1.ImageSpec{Image: "nvcr.io/nvidia/pytorch:24.05-py3", PullPolicy: "IfNotPresent"},
			Config:  &doradev1.ContainerConfig{Cmd: doradev1.NewString("python train.py"), RestartPolicy: "Never", Affinity: "Random"},
			Driver:  "Docker",
		},
	}
	if gpus > 0 {
		wl.Spec.Selectors.GPU = &doradev1.GPUSelector{Count: ptr.To(intstr.FromInt32(gpus)), ProductName: doradev1.NewString("NVIDIA H100 80GB HBM3")}
	}
	return wl
}

// steadyRate applies workloads at a fixed rate with apply, and returns, sorted, for each
// the time from the start of its apply to its last pod being seen.
func steadyRate(ctx context.Context, b *testing.B, cs kubernetes.Interface, ns string, apply func(*doradev1.Workload) error) []time.Duration {
	lat := atRate(ctx, b, cs, ns, *rate, *rateFor, apply)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return lat
}

// atRate applies perSecond workloads a second for length with apply, and returns, in the
// order they were applied, the time from the start of each apply to its last pod being seen.
func atRate(ctx context.Context, b *testing.B, cs kubernetes.Interface, ns string, perSecond int, length time.Duration, apply func(*doradev1.Workload) error) []time.Duration {
	n := int(length.Seconds() * float64(perSecond))
	seen := watchPods(ctx, b, cs, ns)
	defer seen.stop()
	applied := make([]time.Time, n)
	ticker := time.NewTicker(time.Second / time.Duration(perSecond))
	defer ticker.Stop()
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		<-ticker.C
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			wl := benchWorkload(ns, fmt.Sprintf("l%04d", i), int32(*replicas), 0)
			applied[i] = time.Now()
			if err := apply(wl); err != nil {
				b.Error(err)
			}
		}(i)
	}
	wg.Wait()
	seen.waitCount(b, n**replicas, phaseTimeout())
	lat := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		lat = append(lat, seen.lastOf(fmt.Sprintf("l%04d", i)).Sub(applied[i]))
	}
	return lat
}

// probeRates are the rates (workloads a second) at which the bench asks whether the
// manager keeps up, in order; it stops at the first it does not.
var probeRates = []int{25, 50, 100, 200, 400}

// highestSustained applies workloads at each of probeRates for -probe-for, each rate in
// its namespace, and returns the highest rate the manager kept up with (0 for none) and,
// for the report, each probed rate's first- and last-second medians.
func highestSustained(ctx context.Context, b *testing.B, cs kubernetes.Interface, c client.Client, apply func(*doradev1.Workload) error) (int, []string) {
	best := 0
	var notes []string
	if *probeFor <= 0 {
		return 0, []string{"not probed"}
	}
	for _, r := range probeRates {
		lat := atRate(ctx, b, cs, rateNamespace(r), r, *probeFor, apply)
		waitPodsRun(ctx, b, c, rateNamespace(r))
		first, last := median(lat[:r]), median(lat[len(lat)-r:])
		ok := keepsUp(first, last)
		notes = append(notes, fmt.Sprintf("%d/s: %s -> %s", r, first.Round(10*time.Millisecond), last.Round(10*time.Millisecond)))
		if !ok {
			break
		}
		best = r
	}
	return best, notes
}

// waitPodsRun waits until no pod of the namespace is Pending: each phase starts on a
// cluster that is done with the last one's pods (scheduled and run by kwok), so none is
// measured under load another left behind.
func waitPodsRun(ctx context.Context, b *testing.B, c client.Client, ns string) {
	waitForEvery(b, phaseTimeout(), time.Second, "the pods of "+ns+" to run", func() (bool, error) {
		l := &corev1.PodList{}
		err := c.List(ctx, l, client.InNamespace(ns), client.MatchingFields{"status.phase": string(corev1.PodPending)}, client.Limit(1))
		return err == nil && len(l.Items) == 0, nil
	})
}

// keepsUp says whether a rate was sustained, from the median apply -> pods latency of the
// workloads applied in its first second and in its last: a queue that grows shows as the
// latency growing along the phase; more than a second of growth is not keeping up.
func keepsUp(first, last time.Duration) bool { return last-first <= time.Second }

func rateNamespace(r int) string { return fmt.Sprintf("bench-rate-%d", r) }

func rateNamespaces() []string {
	var out []string
	for _, r := range probeRates {
		out = append(out, rateNamespace(r))
	}
	return out
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return pct(s, 0.5)
}

// phaseTimeout is how long the bench waits for a phase's pods: ten minutes, and more for a
// bigger cluster (20 ms per pod: 40,000 pods get 23 minutes).
func phaseTimeout() time.Duration {
	return 10*time.Minute + time.Duration(*workloads**replicas)*20*time.Millisecond
}

// podWatch counts pods appearing in a namespace and remembers when each workload's last
// one did. It is an informer, so a watch the API server drops under load is resumed.
type podWatch struct {
	stopCh chan struct{}
	count  atomic.Int64
	mu     sync.Mutex
	last   map[string]time.Time
}

func watchPods(ctx context.Context, b *testing.B, cs kubernetes.Interface, ns string) *podWatch {
	pw := &podWatch{stopCh: make(chan struct{}), last: map[string]time.Time{}}
	factory := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(ns))
	inf := factory.Core().V1().Pods().Informer()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: func(obj any) {
		pod, ok := obj.(*corev1.Pod)
		if !ok {
			return
		}
		now := time.Now()
		pw.count.Add(1)
		pw.mu.Lock()
		pw.last[pod.Annotations[podspec.AnnotationWorkload]] = now
		pw.mu.Unlock()
	}}); err != nil {
		b.Fatal(err)
	}
	factory.Start(pw.stopCh)
	if !cache.WaitForCacheSync(pw.stopCh, inf.HasSynced) {
		b.Fatal("pod informer did not sync")
	}
	return pw
}

func (p *podWatch) waitCount(b *testing.B, n int, timeout time.Duration) {
	waitFor(b, timeout, fmt.Sprintf("%d pods", n), func() (bool, error) { return p.count.Load() >= int64(n), nil })
}

func (p *podWatch) lastOf(workloadName string) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last[workloadName]
}

func (p *podWatch) stop() { close(p.stopCh) }

func waitFor(b *testing.B, timeout time.Duration, what string, cond func() (bool, error)) {
	waitForEvery(b, timeout, 50*time.Millisecond, what, cond)
}

// waitForEvery is waitFor asking every interval: a condition that lists from the API server
// (every workload, every pod) is asked once a second, not to be load of its own.
func waitForEvery(b *testing.B, timeout, interval time.Duration, what string, cond func() (bool, error)) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := wait.PollUntilContextCancel(ctx, interval, true, func(context.Context) (bool, error) { return cond() }); err != nil {
		b.Fatalf("waiting for %s: %v", what, err)
	}
}

// parallel runs f(0..n-1) on workers goroutines.
func parallel(n, workers int, f func(int) error, b *testing.B) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	wg.Wait()
}

// managerProcess is the manager under measurement, in its own process so that its memory
// and its requests are its own.
type managerProcess struct {
	cmd         *exec.Cmd
	metricsAddr string
}

func startManager(cluster *simcluster.Cluster) (*managerProcess, error) {
	bin, err := filepath.Abs(*managerBin)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("manager binary %s: %w (run make build)", bin, err)
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	log, err := os.Create(filepath.Join(cluster.LogDir, "manager.log"))
	if err != nil {
		return nil, err
	}
	args := []string{"--kubeconfig=" + cluster.Kubeconfig, "--zone=bench",
		"--webhook-host=" + cluster.Webhook.LocalServingHost, "--webhook-port=" + strconv.Itoa(cluster.Webhook.LocalServingPort),
		"--webhook-cert-dir=" + cluster.Webhook.LocalServingCertDir,
		"--metrics-bind-address=" + addr, "--metrics-secure=false", "--health-probe-bind-address=0",
	}
	if *pprofAddr != "" {
		args = append(args, "--pprof-bind-address="+*pprofAddr)
	}
	chart, err := chartDefaults()
	if err != nil {
		return nil, err
	}
	// The manager as the chart installs it by default: its client limits, and the soft
	// memory limit it would set itself under the chart's container limit.
	args = append([]string{fmt.Sprintf("--kube-api-qps=%v", chart.qps), fmt.Sprintf("--kube-api-burst=%v", chart.burst)}, args...)
	cmd := exec.Command(bin, append(args, strings.Fields(*managerArgs)...)...)
	cmd.Env = append(os.Environ(), fmt.Sprintf("GOMEMLIMIT=%d", memlimit.Soft(chart.memoryLimit)))
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	m := &managerProcess{cmd: cmd, metricsAddr: addr}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	webhook := net.JoinHostPort(cluster.Webhook.LocalServingHost, strconv.Itoa(cluster.Webhook.LocalServingPort))
	err = wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(context.Context) (bool, error) {
		if _, err := m.scrape(); err != nil {
			return false, nil
		}
		conn, err := net.DialTimeout("tcp", webhook, time.Second)
		if err != nil {
			return false, nil
		}
		_ = conn.Close()
		return true, nil
	})
	return m, err
}

// chartSettings are the Helm chart's defaults the bench runs the manager with.
type chartSettings struct {
	qps, burst  float64
	memoryLimit int64
}

// chartDefaults reads the manager's defaults from the chart's values.yaml.
func chartDefaults() (chartSettings, error) {
	root, err := simcluster.RepoRoot()
	if err != nil {
		return chartSettings{}, err
	}
	data, err := os.ReadFile(filepath.Join(root, "charts", "dora-operator", "values.yaml"))
	if err != nil {
		return chartSettings{}, err
	}
	var values struct {
		Manager struct {
			KubeAPI struct {
				QPS   float64 `json:"qps"`
				Burst float64 `json:"burst"`
			} `json:"kubeAPI"`
			Resources corev1.ResourceRequirements `json:"resources"`
		} `json:"manager"`
	}
	if err := yaml.Unmarshal(data, &values); err != nil {
		return chartSettings{}, fmt.Errorf("the chart's values.yaml: %w", err)
	}
	m := values.Manager
	limit := m.Resources.Limits.Memory().Value()
	if m.KubeAPI.QPS == 0 || limit == 0 {
		return chartSettings{}, fmt.Errorf("the chart's values.yaml has no manager.kubeAPI.qps or manager.resources.limits.memory")
	}
	return chartSettings{qps: m.KubeAPI.QPS, burst: m.KubeAPI.Burst, memoryLimit: limit}, nil
}

// profileCPU records the manager's CPU profile into -profile-dir as cpu-NNN.pprof, ten
// seconds each (Go writes a CPU profile only once it ends, so a phase of unknown length is
// covered by consecutive ones; `go tool pprof` merges the files given together), until the
// returned function is called; that waits for the last one. Without -pprof and -profile-dir
// it does nothing.
func (m *managerProcess) profileCPU(b *testing.B) func() {
	if *pprofAddr == "" || *profileDir == "" {
		return func() {}
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			m.fetchProfile(b, fmt.Sprintf("cpu-%03d.pprof", i), "profile?seconds=10")
		}
	}()
	return func() { close(stop); <-done }
}

// fetchProfile writes one of the manager's profiles (path under /debug/pprof/) into
// -profile-dir as file. Without -pprof and -profile-dir it does nothing.
func (m *managerProcess) fetchProfile(b *testing.B, file, path string) {
	if *pprofAddr == "" || *profileDir == "" {
		return
	}
	resp, err := http.Get("http://" + *pprofAddr + "/debug/pprof/" + path)
	if err != nil {
		b.Logf("profile %s: %v", file, err)
		return
	}
	defer func() { _ = resp.Body.Close() }()
	if err := os.MkdirAll(*profileDir, 0o755); err != nil {
		b.Error(err)
		return
	}
	out, err := os.Create(filepath.Join(*profileDir, file))
	if err != nil {
		b.Error(err)
		return
	}
	defer func() { _ = out.Close() }()
	if _, err := io.Copy(out, resp.Body); err != nil {
		b.Logf("profile %s: %v", file, err)
	}
}

// rawPod makes a pod the manager would create into one of the raw client's: no workload
// label (so not in the manager's cache) and no credit finalizer.
func rawPod(pod *corev1.Pod) {
	delete(pod.Labels, doradev1.LabelWorkload)
	pod.Finalizers = nil
}

// setUpUser makes benchUser a Dora user with a budget no run spends, allowed to create
// Workloads in the bench namespaces, prices the bench's GPU model, and returns a client
// acting as that user.
func setUpUser(ctx context.Context, b *testing.B, cluster *simcluster.Cluster, c client.Client) client.Client {
	objs := []client.Object{
		&doradev1.ResourceCredit{ObjectMeta: metav1.ObjectMeta{Name: "bench-h100"},
			Spec: doradev1.ResourceCreditSpec{ProductName: "NVIDIA H100 80GB HBM3", Credit: doradev1.CreditPrice{Per: doradev1.CreditRate{Hour: "2.5"}}}},
		&doradev1.User{ObjectMeta: metav1.ObjectMeta{Name: benchUser},
			Spec: doradev1.UserSpec{Credits: []doradev1.WeeklyCredits{{Zone: "bench", Weekly: "1000000000"}}}},
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "bench-workloads"}, Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"dora.dev"}, Resources: []string{"workloads"}, Verbs: []string{"create", "get", "list", "watch"}}}},
	}
	for _, ns := range append([]string{"bench-op", "bench-lat"}, rateNamespaces()...) {
		objs = append(objs, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bench-user"},
			RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "bench-workloads"},
			Subjects: []rbacv1.Subject{{APIGroup: "rbac.authorization.k8s.io", Kind: "User", Name: benchUser}}})
	}
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil {
			b.Fatal(err)
		}
	}
	cfg := rest.CopyConfig(cluster.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: benchUser, Groups: []string{"system:authenticated"}}
	cfg.QPS, cfg.Burst = 1000, 2000
	uc, err := client.New(cfg, client.Options{Scheme: manager.Scheme()})
	if err != nil {
		b.Fatal(err)
	}
	// The owner webhook must find the User, and the user's RBAC must be in force.
	waitFor(b, time.Minute, "the bench user to be able to create workloads", func() (bool, error) {
		wl := benchWorkload("bench-op", "probe", 1, 0)
		if err := uc.Create(ctx, wl, client.DryRunAll); err != nil {
			return false, nil
		}
		return wl.Annotations[doradev1.AnnotationOwner] == benchUser, nil
	})
	return uc
}

func (m *managerProcess) stop() { _ = m.cmd.Process.Kill(); _ = m.cmd.Wait() }

// writeCounts are the manager's requests by method, from its client-go metrics.
type writeCounts map[string]float64

func (w writeCounts) total() float64 { return w["POST"] + w["PUT"] + w["PATCH"] + w["DELETE"] }

func (w writeCounts) sub(o writeCounts) writeCounts {
	out := writeCounts{}
	for k, v := range w {
		out[k] = v - o[k]
	}
	return out
}

func (w writeCounts) String() string {
	return fmt.Sprintf("POST %.0f, PUT %.0f, PATCH %.0f, DELETE %.0f", w["POST"], w["PUT"], w["PATCH"], w["DELETE"])
}

func (m *managerProcess) writes(b *testing.B) writeCounts {
	w, err := m.scrape()
	if err != nil {
		b.Fatal(err)
	}
	return w
}

// waitQuiet waits until the manager has written nothing for quiet, and returns its counts.
func (m *managerProcess) waitQuiet(b *testing.B, quiet time.Duration) writeCounts {
	last := m.writes(b)
	since := time.Now()
	for time.Since(since) < quiet {
		time.Sleep(time.Second) // a scrape runs the manager's metric collectors: not too often
		now := m.writes(b)
		if now.total() != last.total() {
			last, since = now, time.Now()
		}
	}
	return last
}

func (m *managerProcess) scrape() (writeCounts, error) {
	resp, err := http.Get("http://" + m.metricsAddr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	return parseRequests(resp.Body), nil
}

// parseRequests sums rest_client_requests_total by method.
func parseRequests(r io.Reader) writeCounts {
	out := writeCounts{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "rest_client_requests_total{") {
			continue
		}
		i := strings.Index(line, `method="`)
		if i < 0 {
			continue
		}
		method := line[i+8:]
		method = method[:strings.IndexByte(method, '"')]
		fields := strings.Fields(line)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err == nil {
			out[method] += v
		}
	}
	return out
}

// cpuSeconds is the manager's user and system CPU time so far, from /proc.
func (m *managerProcess) cpuSeconds(b *testing.B) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", m.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	// The fields after the command name (which may hold spaces, in parentheses).
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	const clockTicks = 100 // USER_HZ on Linux
	return (utime + stime) / clockTicks
}

// sums are totals read from the manager's metrics: webhook time and requests, reconcile time
// by controller.
type sums map[string]float64

func (s sums) sub(o sums) sums {
	out := sums{}
	for k, v := range s {
		out[k] = v - o[k]
	}
	return out
}

// metrics reads the time the manager spent in its webhooks and its reconciles.
func (m *managerProcess) metrics(b *testing.B) sums {
	resp, err := http.Get("http://" + m.metricsAddr + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	out := sums{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err != nil {
			continue
		}
		switch {
		case strings.HasPrefix(line, "controller_runtime_webhook_latency_seconds_sum"):
			out["webhook_seconds"] += v
		case strings.HasPrefix(line, "controller_runtime_webhook_latency_seconds_count"):
			out["webhook_requests"] += v
		case strings.HasPrefix(line, "controller_runtime_reconcile_time_seconds_sum{"):
			if i := strings.Index(line, `controller="`); i >= 0 {
				name := line[i+len(`controller="`):]
				out["reconcile_seconds_"+name[:strings.IndexByte(name, '"')]] += v
			}
		}
	}
	return out
}

// peakRSS is the manager's VmHWM, in bytes.
func (m *managerProcess) peakRSS(b *testing.B) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", m.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String(), nil
}
