package zone

import (
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// summarize computes the zone's status from its Dora Nodes and Workloads: nodes, GPUs by
// model (per GPU, so mixed nodes count right), and workloads by phase.
func summarize(nodes []doradev1.Node, workloads []doradev1.Workload) doradev1.ZoneStatus {
	st := doradev1.ZoneStatus{Nodes: int32(len(nodes))}
	byModel := map[string]int32{}
	for _, n := range nodes {
		for _, g := range n.Status.GPUs {
			if g.Product != "" {
				byModel[g.Product]++
			}
		}
	}
	models := make([]string, 0, len(byModel))
	for m := range byModel {
		models = append(models, m)
	}
	sort.Strings(models)
	for _, m := range models {
		st.GPUs = append(st.GPUs, doradev1.GPUCount{Product: m, Count: byModel[m]})
	}
	if len(workloads) > 0 {
		st.Workloads = map[string]int32{}
		for _, w := range workloads {
			phase := string(w.Status.Phase)
			if phase == "" {
				phase = string(doradev1.WorkloadPhasePending)
			}
			st.Workloads[phase]++
		}
	}
	st.Conditions = []metav1.Condition{{
		Type: doradev1.ConditionReady, Status: metav1.ConditionTrue, Reason: "ManagerRunning",
		Message: "the Dora manager of this zone reports it",
	}}
	return st
}
