package zone

import (
	"context"
	"sort"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/naming"
	"github.com/dora-hpc/dora-operator/internal/podspec"
)

// Metrics of the zone's workloads and GPUs, read from the manager's cache when scraped (no
// API request, no write).
var (
	workloadsDesc = prometheus.NewDesc("dora_workloads",
		"Workloads by phase and by the workspace they are in (empty: a namespace no Workspace owns).",
		[]string{"zone", "workspace", "phase"}, nil)
	gpusDesc = prometheus.NewDesc("dora_gpus",
		"GPUs by model and state: total (the zone's, by model), running (held by pods, by the model they are), "+
			"requested (asked by the replicas of workloads neither paused nor held, by the model they ask: a list is joined with |, any model is All) "+
			"and queued (asked by pods not yet on a node, by the model asked).",
		[]string{"zone", "model", "state"}, nil)
)

// Collector exports the zone's workloads and GPUs from a cache reader.
type Collector struct {
	zone   string
	reader client.Reader
}

// NewCollector returns a Collector reading through reader (the manager's cached client).
func NewCollector(zone string, reader client.Reader) *Collector {
	return &Collector{zone: zone, reader: reader}
}

// Describe sends the metrics' descriptions.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- workloadsDesc
	ch <- gpusDesc
}

// Collect reads the cache and sends the counts. A failed read sends nothing of that part.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx := context.Background()
	// Read-only: the cache's objects themselves, not copies.
	noCopy := client.UnsafeDisableDeepCopy
	var workspaces doradev1.WorkspaceList
	var workloads doradev1.WorkloadList
	var nodes doradev1.NodeList
	var pods corev1.PodList
	if err := c.reader.List(ctx, &workspaces, noCopy); err != nil {
		return
	}
	if err := c.reader.List(ctx, &workloads, noCopy); err != nil {
		return
	}
	wsOf := map[string]string{}
	for _, ws := range workspaces.Items {
		wsOf[naming.WorkspaceNamespace(ws.Name)] = ws.Name
	}
	for key, n := range countWorkloads(workloads.Items, wsOf) {
		ch <- prometheus.MustNewConstMetric(workloadsDesc, prometheus.GaugeValue, float64(n), c.zone, key.workspace, key.phase)
	}
	if err := c.reader.List(ctx, &nodes, noCopy); err != nil {
		return
	}
	if err := c.reader.List(ctx, &pods, noCopy); err != nil {
		return
	}
	for key, n := range countGPUs(nodes.Items, workloads.Items, pods.Items) {
		ch <- prometheus.MustNewConstMetric(gpusDesc, prometheus.GaugeValue, float64(n), c.zone, key.model, key.state)
	}
}

type workloadKey struct{ workspace, phase string }

// countWorkloads counts workloads by workspace (wsOf maps a namespace to its Workspace) and
// phase.
func countWorkloads(workloads []doradev1.Workload, wsOf map[string]string) map[workloadKey]int {
	out := map[workloadKey]int{}
	for _, wl := range workloads {
		phase := string(wl.Status.Phase)
		if phase == "" {
			phase = string(doradev1.WorkloadPhasePending)
		}
		out[workloadKey{wsOf[wl.Namespace], phase}]++
	}
	return out
}

type gpuKey struct{ model, state string }

// The GPU states of dora_gpus.
const (
	gpusTotal     = "total"
	gpusRunning   = "running"
	gpusRequested = "requested"
	gpusQueued    = "queued"
)

// countGPUs counts the zone's GPUs (from the Dora Nodes, as their agents report them), the
// ones pods hold, the ones workloads ask for and the ones waiting pods ask for.
func countGPUs(nodes []doradev1.Node, workloads []doradev1.Workload, pods []corev1.Pod) map[gpuKey]int64 {
	out := map[gpuKey]int64{}
	for _, n := range nodes {
		for _, g := range n.Status.GPUs {
			if g.Product == "" {
				continue
			}
			out[gpuKey{g.Product, gpusTotal}]++
			if g.Pod != "" {
				out[gpuKey{g.Product, gpusRunning}]++
			}
		}
	}
	asked := map[string]string{} // namespace/name of a workload -> the models it asks
	for i := range workloads {
		wl := &workloads[i]
		gpus := podspec.GPUCount(wl)
		if gpus == 0 {
			continue
		}
		model := askedModel(wl)
		asked[wl.Namespace+"/"+wl.Name] = model
		if wl.Spec.Paused || heldForCredits(wl) {
			continue
		}
		out[gpuKey{model, gpusRequested}] += gpus * int64(wl.ReplicaCount())
	}
	for _, p := range pods {
		if p.Spec.NodeName != "" || p.DeletionTimestamp != nil {
			continue
		}
		model, ok := asked[p.Namespace+"/"+p.Annotations[podspec.AnnotationWorkload]]
		if !ok {
			continue
		}
		for _, c := range p.Spec.Containers {
			if q, ok := c.Resources.Limits["nvidia.com/gpu"]; ok {
				out[gpuKey{model, gpusQueued}] += q.Value()
			}
		}
	}
	return out
}

// askedModel is the models a workload's GPU selector asks for: All for any, else the list
// sorted and joined with |.
func askedModel(wl *doradev1.Workload) string {
	if wl.Spec.Selectors.GPU == nil {
		return doradev1.All
	}
	models := append([]string(nil), wl.Spec.Selectors.GPU.ProductName.Values...)
	for _, m := range models {
		if m == doradev1.All {
			return doradev1.All
		}
	}
	if len(models) == 0 {
		return doradev1.All
	}
	sort.Strings(models)
	return strings.Join(models, "|")
}

func heldForCredits(wl *doradev1.Workload) bool {
	return meta.IsStatusConditionTrue(wl.Status.Conditions, doradev1.CreditsExhausted)
}
