package e2e

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	apiwatch "k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/gpu"
	"github.com/dora-hpc/dora-operator/internal/manager"
	"github.com/dora-hpc/dora-operator/test/harness"
)

// The chaos: how long pods start and stop while the manager is killed, how long each
// manager lives (from the moment its webhooks answer) and how long it stays dead.
const (
	crashChaosFor    = 60 * time.Second
	crashMinUptime   = 1 * time.Second
	crashMaxUptime   = 6 * time.Second
	crashMinDowntime = 200 * time.Millisecond
	crashMaxDowntime = 2 * time.Second
	crashMinPause    = 300 * time.Millisecond
	crashMaxPause    = 2500 * time.Millisecond
)

// TestCreditsLedgerIsExactAcrossManagerCrashes proves that the credit ledger survives its
// manager dying at any moment. The manager runs as its own process and is killed with
// SIGKILL (no deferred call, no graceful shutdown, requests left in flight) every 1-6 s of
// uptime and restarted after up to 2 s, for a minute, while one user's GPU workloads are
// paused, resumed, deleted and recreated at random, so that pods start, stop and wait in
// their finalizer across every kind of restart. Once the workloads are gone and every pod
// with them (a pod goes only once the ledger holds it), the UserCredit's ledger is:
//
//   - exact: its GPU-seconds are, to the second, the sum over the pods of GPUs x (end -
//     start) in whole seconds, computed here from the last state of each pod the API server
//     reported (start: the earliest container start; end: the last container finish if all
//     finished, else the pod's deletion time);
//   - complete and single: it closed each pod once, every pod that ran among them, and no
//     pod that is not the user's.
//
// The seed of the chaos is logged; DORA_CRASH_SEED=<seed> replays the same choices (the
// timing of the cluster still differs).
func TestCreditsLedgerIsExactAcrossManagerCrashes(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	const (
		zone    = "dc-rov-01"
		user    = "crash.user"
		product = "NVIDIA H100 80GB HBM3"
	)
	seed := time.Now().UnixNano()
	if s := os.Getenv("DORA_CRASH_SEED"); s != "" {
		var err error
		seed, err = strconv.ParseInt(s, 10, 64)
		g.Expect(err).NotTo(HaveOccurred(), "DORA_CRASH_SEED")
	}
	t.Logf("chaos seed %d (DORA_CRASH_SEED=%d replays it)", seed, seed)

	// The manager, as a process that can be killed. The in-process one stops for the test
	// and comes back for the tests after it.
	bin, err := harness.BuildManager(ctx, t.TempDir())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(testEnv.StopManager()).To(Succeed())
	t.Cleanup(func() {
		if err := testEnv.StartManager(); err != nil {
			t.Errorf("restarting the in-process manager: %v", err)
		}
	})
	proc, err := testEnv.NewManagerProcess(bin, t.TempDir())
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() {
		if err := proc.Close(); err != nil {
			t.Errorf("stopping the manager process: %v", err)
		}
	})
	g.Expect(proc.Start()).To(Succeed())

	// A user with a budget nothing here comes near (nothing is held), charged 3600 credits a
	// GPU-hour of H100.
	create := func(obj client.Object) {
		t.Helper()
		g.Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		t.Cleanup(func() { _ = k8sClient.Delete(ctx, obj) })
	}
	create(&doradev1.ResourceCredit{ObjectMeta: metav1.ObjectMeta{Name: "h100-crash-credits"},
		Spec: doradev1.ResourceCreditSpec{ProductName: product, Credit: doradev1.CreditPrice{Per: doradev1.CreditRate{Hour: "3600"}}}})
	create(&doradev1.Role{ObjectMeta: metav1.ObjectMeta{Name: "crash-researcher"}, Spec: doradev1.RoleSpec{Permission: map[string][]string{
		"Workload": {"Apply", "Delete", "Get", "Describe", "Pause", "Resume", "Event", "Version"},
	}}})
	ns := workspace(t, user)
	create(&doradev1.User{ObjectMeta: metav1.ObjectMeta{Name: user}, Spec: doradev1.UserSpec{
		Resources: []doradev1.RoleBinding{{Kind: "All", Zone: "All", Workspace: user, Role: "crash-researcher"}},
		Credits:   []doradev1.WeeklyCredits{{Zone: zone, Weekly: "100000000"}},
	}})
	researcher := as(t, user)
	g.Eventually(func() error { return researcher.List(ctx, &doradev1.WorkloadList{}, client.InNamespace(ns)) }).
		WithTimeout(30*time.Second).Should(Succeed(), "the user's bindings are made")
	g.Eventually(func(g Gomega) {
		dn := &doradev1.Node{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "h100-0"}, dn)).To(Succeed())
		g.Expect(dn.Status.GPUs).NotTo(BeEmpty())
	}).WithTimeout(30*time.Second).Should(Succeed(), "the H100 node's agent reports its GPUs")
	pods := watchLastPods(t, ns)
	weekStart := ledgerOf(g, user, zone).WeekStart
	g.Expect(weekStart).NotTo(BeNil(), "the UserCredit says when its week began")

	// Four workloads asking 12 GPUs of h100-0's 8: some pods wait Pending, and some of those
	// go without ever running (charged nothing, yet closed to let them go); so does the pod
	// of a workload recreated while its old pods still wait in their finalizer.
	type chaosWorkload struct {
		name           string
		replicas, gpus int32
		exists, paused bool
	}
	workloads := []*chaosWorkload{
		{name: "pair", replicas: 2, gpus: 2}, {name: "solo", replicas: 1, gpus: 2},
		{name: "twins", replicas: 2, gpus: 1}, {name: "quad", replicas: 1, gpus: 4},
	}
	// Every action goes through the webhooks (but deletion): while the manager is down it
	// is refused, and tried again until a manager takes it.
	retry := func(what string, action func() error) {
		t.Helper()
		g.Eventually(action).WithTimeout(60*time.Second).WithPolling(100*time.Millisecond).Should(Succeed(), what)
	}
	createWorkload := func(w *chaosWorkload) {
		t.Helper()
		retry("creating "+w.name, func() error {
			wl := gpuWorkload(ns, w.name, w.replicas, w.gpus, product)
			err := researcher.Create(ctx, wl)
			if err == nil && wl.Annotations[doradev1.AnnotationOwner] != user {
				return StopTrying(fmt.Sprintf("workload %s created without the owner annotation: %v", w.name, wl.Annotations))
			}
			return err
		})
		w.exists, w.paused = true, false
	}
	setPaused := func(w *chaosWorkload, paused bool) {
		t.Helper()
		patch := client.RawPatch(types.MergePatchType, fmt.Appendf(nil, `{"spec":{"paused":%t}}`, paused))
		retry(fmt.Sprintf("setting %s paused=%t", w.name, paused), func() error {
			return researcher.Patch(ctx, &doradev1.Workload{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: w.name}}, patch)
		})
		w.paused = paused
	}
	deleteWorkload := func(w *chaosWorkload) {
		t.Helper()
		retry("deleting "+w.name, func() error {
			return client.IgnoreNotFound(researcher.Delete(ctx, &doradev1.Workload{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: w.name}}))
		})
		w.exists = false
	}
	for _, w := range workloads {
		createWorkload(w)
	}

	// The killer: its own goroutine and random source, so that the kills fall anywhere
	// in what the workloads do. Its counts are read once it is done.
	chaosCtx, stopChaos := context.WithCancel(ctx)
	var (
		killerDone = make(chan struct{})
		kills      int
		uptimes    []time.Duration
	)
	go func() {
		defer close(killerDone)
		rng := rand.New(rand.NewSource(seed + 1))
		for {
			up := randDuration(rng, crashMinUptime, crashMaxUptime)
			down := randDuration(rng, crashMinDowntime, crashMaxDowntime)
			select {
			case <-chaosCtx.Done():
				return
			case <-time.After(up):
			}
			if err := proc.Kill(); err != nil {
				t.Errorf("killing the manager: %v", err)
				return
			}
			kills++
			uptimes = append(uptimes, up.Round(time.Millisecond))
			time.Sleep(down)
			if err := proc.Start(); err != nil {
				t.Errorf("restarting the manager: %v", err)
				return
			}
		}
	}()
	t.Cleanup(func() { stopChaos(); <-killerDone })

	// The tenant: pause, resume, delete and recreate at random.
	rng := rand.New(rand.NewSource(seed))
	var actions []string
	for end := time.Now().Add(crashChaosFor); time.Now().Before(end); {
		time.Sleep(randDuration(rng, crashMinPause, crashMaxPause))
		select {
		case <-killerDone:
			t.Fatal("the killer stopped before the end (its error is above)")
		default:
		}
		w := workloads[rng.Intn(len(workloads))]
		roll := rng.Float64()
		switch {
		case !w.exists:
			createWorkload(w)
			actions = append(actions, "create "+w.name)
		case w.paused && roll < 0.7:
			setPaused(w, false)
			actions = append(actions, "resume "+w.name)
		case !w.paused && roll < 0.5:
			setPaused(w, true)
			actions = append(actions, "pause "+w.name)
		default:
			deleteWorkload(w)
			actions = append(actions, "delete "+w.name)
		}
	}
	stopChaos()
	<-killerDone
	if !proc.Running() {
		g.Expect(proc.Start()).To(Succeed(), "the last manager stays up to the end")
	}
	t.Logf("%d kills (uptimes %v); %d actions: %s", kills, uptimes, len(actions), strings.Join(actions, ", "))
	g.Expect(kills).To(BeNumerically(">", 3), "the manager was killed often enough to matter")

	// The end: every workload deleted, and every pod gone, which it is only once the ledger
	// holds it.
	for _, w := range workloads {
		if w.exists {
			deleteWorkload(w)
		}
	}
	g.Eventually(func(g Gomega) {
		list := &corev1.PodList{}
		g.Expect(k8sClient.List(ctx, list, client.InNamespace(ns))).To(Succeed())
		g.Expect(list.Items).To(BeEmpty())
	}).WithTimeout(2*time.Minute).WithPolling(250*time.Millisecond).Should(Succeed(),
		"every pod goes: its finalizer is released once the ledger holds its time")
	g.Eventually(pods.allGone).WithTimeout(10*time.Second).Should(BeTrue(), "the watch saw every pod go")
	g.Expect(pods.err()).NotTo(HaveOccurred(), "the pods' watch stayed open throughout")

	// The truth, from the pods' own times.
	truth := pods.charges()
	var (
		truthTotal int64
		ran        []string
		report     []string
	)
	for _, c := range truth {
		truthTotal += c.gpuSeconds
		if c.ran {
			ran = append(ran, c.uid)
		}
		report = append(report, c.String())
	}
	z := ledgerOf(g, user, zone)
	var charged int64
	for _, e := range z.Ledger.Entries {
		charged += e.GPUSeconds
	}
	rolled := z.WeekStart == nil || !z.WeekStart.Equal(weekStart)
	if rolled {
		// The week reset during the test: the weeks before hold the rest, as GPU-hours
		// rounded to 6 places (a thousandth of a second's precision).
		for _, h := range z.History {
			if h.WeekStart.Before(weekStart) {
				continue
			}
			for _, p := range h.Products {
				hours, err := strconv.ParseFloat(string(p.GPUHours), 64)
				g.Expect(err).NotTo(HaveOccurred())
				charged += int64(math.Round(hours * 3600))
			}
		}
	}
	closed := map[string]int{}
	for _, uid := range z.Ledger.Closed {
		closed[uid]++
	}
	seen := map[string]bool{}
	for _, c := range truth {
		seen[c.uid] = true
	}
	var twice, missing, foreign []string
	for uid, n := range closed {
		if n > 1 {
			twice = append(twice, uid)
		}
		if !seen[uid] {
			foreign = append(foreign, uid)
		}
	}
	for _, c := range truth {
		if closed[c.uid] == 0 {
			missing = append(missing, fmt.Sprintf("%s %s (ran: %t)", c.name, c.uid, c.ran))
		}
	}
	t.Logf("seed %d: %d kills, %d pods (%d ran, %d never did), charged %d GPU-seconds, the pods' own times say %d; %d closed",
		seed, kills, len(truth), len(ran), len(truth)-len(ran), charged, truthTotal, len(z.Ledger.Closed))
	if charged != truthTotal || len(twice)+len(missing)+len(foreign) > 0 {
		t.Logf("pods, by their own times:\n%s", strings.Join(report, "\n"))
		t.Logf("ledger: %+v", z.Ledger)
		t.Logf("closed twice: %v; not closed: %v; closed but not the user's pods: %v", twice, missing, foreign)
		t.Logf("manager log: %s/manager-process.log (kept with DORA_KEEP_SIMCLUSTER=1)", testEnv.Cluster.LogDir)
	}
	g.Expect(charged).To(Equal(truthTotal), "the ledger is the pods' own time, to the second")
	g.Expect(twice).To(BeEmpty(), "no pod is closed twice")
	g.Expect(foreign).To(BeEmpty(), "the ledger closes only the user's pods")
	if rolled {
		t.Log("the week reset during the test: the pods closed before it left this week's ledger")
		return
	}
	// Every pod carried the credits finalizer, so it went only once closed: the ones that
	// never ran too, at no charge.
	g.Expect(missing).To(BeEmpty(), "every pod is closed: each of the %d that ran, and the %d that never did", len(ran), len(truth)-len(ran))
}

// ledgerOf is the user's UserCredit for zone, read from the API server.
func ledgerOf(g Gomega, user, zone string) doradev1.ZoneCredits {
	uc := &doradev1.UserCredit{}
	var z doradev1.ZoneCredits
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(context.Background(), client.ObjectKey{Name: user}, uc)).To(Succeed())
		i := slices.IndexFunc(uc.Status.Zones, func(z doradev1.ZoneCredits) bool { return z.Zone == zone })
		g.Expect(i).NotTo(Equal(-1), "the UserCredit has zone %s", zone)
		z = uc.Status.Zones[i]
	}).WithTimeout(30*time.Second).Should(Succeed(), "the user's UserCredit is written")
	return z
}

func randDuration(rng *rand.Rand, lo, hi time.Duration) time.Duration {
	return lo + time.Duration(rng.Int63n(int64(hi-lo)))
}

// lastPods keeps, from a watch started before the namespace has any pod, the last state
// the API server reported of each pod: for a deleted one, the object of its Deleted event.
type lastPods struct {
	mu      sync.Mutex
	last    map[types.UID]*corev1.Pod
	gone    map[types.UID]bool
	watchOK bool
}

func watchLastPods(t *testing.T, namespace string) *lastPods {
	t.Helper()
	wc, err := client.NewWithWatch(testEnv.Cluster.Config, client.Options{Scheme: manager.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	w, err := wc.Watch(context.Background(), &corev1.PodList{}, client.InNamespace(namespace))
	if err != nil {
		t.Fatal(err)
	}
	lp := &lastPods{last: map[types.UID]*corev1.Pod{}, gone: map[types.UID]bool{}, watchOK: true}
	stopped := make(chan struct{})
	t.Cleanup(func() { close(stopped); w.Stop() })
	go func() {
		for ev := range w.ResultChan() {
			pod, ok := ev.Object.(*corev1.Pod)
			lp.mu.Lock()
			if ev.Type == apiwatch.Error || !ok {
				lp.watchOK = false
				lp.mu.Unlock()
				continue
			}
			lp.last[pod.UID] = pod
			if ev.Type == apiwatch.Deleted {
				lp.gone[pod.UID] = true
			}
			lp.mu.Unlock()
		}
		select {
		case <-stopped:
		default:
			lp.mu.Lock()
			lp.watchOK = false // closed by the API server before the test was done
			lp.mu.Unlock()
		}
	}()
	return lp
}

func (lp *lastPods) allGone() bool {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	return len(lp.gone) == len(lp.last)
}

func (lp *lastPods) err() error {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	if !lp.watchOK {
		return fmt.Errorf("the pods' watch failed or closed: the pods seen (%d) may not be all", len(lp.last))
	}
	return nil
}

// podCharge is what one pod cost by its own times.
type podCharge struct {
	name, uid   string
	gpus        int64
	start, end  time.Time
	ran         bool
	gpuSeconds  int64
	deletedAt   *metav1.Time
	allFinished bool
}

func (c podCharge) String() string {
	return fmt.Sprintf("  %s %s: %d GPUs, start %s, end %s (deleted %v, all finished %t): %d GPU-seconds",
		c.name, c.uid, c.gpus, c.start.Format(time.RFC3339), c.end.Format(time.RFC3339), c.deletedAt, c.allFinished, c.gpuSeconds)
}

// charges are the pods' charges, written independently of the controller: a pod ran from
// the earliest start of its containers to the latest finish when every container finished,
// else to its deletion; it is charged its GPUs x the whole seconds between the two (unix
// seconds, never negative), and nothing if no container ever started.
func (lp *lastPods) charges() []podCharge {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	var out []podCharge
	for uid, pod := range lp.last {
		c := podCharge{name: pod.Name, uid: string(uid), deletedAt: pod.DeletionTimestamp}
		for _, ctr := range pod.Spec.Containers {
			if q, ok := ctr.Resources.Limits[corev1.ResourceName(gpu.ResourceName)]; ok {
				c.gpus += q.Value()
			}
		}
		var finish time.Time
		c.allFinished = len(pod.Status.ContainerStatuses) > 0
		for _, s := range pod.Status.ContainerStatuses {
			var started time.Time
			switch {
			case s.State.Running != nil:
				started = s.State.Running.StartedAt.Time
				c.allFinished = false
			case s.State.Terminated != nil:
				started = s.State.Terminated.StartedAt.Time
				if f := s.State.Terminated.FinishedAt.Time; f.After(finish) {
					finish = f
				}
			default:
				c.allFinished = false
			}
			if !started.IsZero() && (c.start.IsZero() || started.Before(c.start)) {
				c.start = started
			}
		}
		switch {
		case c.allFinished && !finish.IsZero():
			c.end = finish
		case pod.DeletionTimestamp != nil:
			c.end = pod.DeletionTimestamp.Time
		}
		if c.ran = !c.start.IsZero(); c.ran && !c.end.IsZero() {
			c.gpuSeconds = c.gpus * max(0, c.end.Unix()-c.start.Unix())
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].name < out[j].name || out[i].name == out[j].name && out[i].start.Before(out[j].start)
	})
	return out
}
