package zone

import (
	"fmt"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// summarize computes the zone's status from its Dora Nodes, Workloads and ResourceCredits:
// nodes, GPUs by model (per GPU, so mixed nodes count right), workloads by phase, and
// whether a GPU model in the zone has no price.
func summarize(nodes []doradev1.Node, workloads []doradev1.Workload, rcs []doradev1.ResourceCredit) doradev1.ZoneStatus {
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
	}, unpricedCondition(st.GPUs, rcs)}
	return st
}

// unpricedCondition is True while a GPU model of the zone has no ResourceCredit: time on it
// is charged 0 to everyone, which an administrator wants to know before anybody runs there.
func unpricedCondition(gpus []doradev1.GPUCount, rcs []doradev1.ResourceCredit) metav1.Condition {
	priced := map[string]bool{}
	for _, rc := range rcs {
		priced[rc.Spec.ProductName] = true
	}
	var missing []string
	for _, g := range gpus {
		if !priced[g.Product] {
			missing = append(missing, fmt.Sprintf("%q (%d GPUs)", g.Product, g.Count))
		}
	}
	if len(missing) == 0 {
		return metav1.Condition{Type: doradev1.Unpriced, Status: metav1.ConditionFalse, Reason: doradev1.ReasonAllPriced,
			Message: "every GPU model in the zone has a ResourceCredit"}
	}
	return metav1.Condition{Type: doradev1.Unpriced, Status: metav1.ConditionTrue, Reason: doradev1.ReasonProductsUnpriced,
		Message: fmt.Sprintf("no ResourceCredit prices %s: time on them is charged 0; create a ResourceCredit with that product_name", strings.Join(missing, ", "))}
}
