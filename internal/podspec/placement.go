package podspec

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/gpu"
	"github.com/dora-hpc/dora-operator/internal/naming"
)

// hostnameTopology is the node label that tells one node from another.
const hostnameTopology = "kubernetes.io/hostname"

// affinity is where the pods of a workload may and should run: the node affinity every
// replica requires, and the pod (anti-)affinity that config.affinity prefers.
func affinity(wl *doradev1.Workload, gpus int64) (*corev1.Affinity, error) {
	required, err := nodeRequirement(wl, gpus)
	if err != nil {
		return nil, err
	}
	aff := &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{required},
		},
	}}
	var placement string
	if wl.Spec.Config != nil {
		placement = wl.Spec.Config.Affinity
	}
	siblings := []corev1.WeightedPodAffinityTerm{{
		Weight: 100,
		PodAffinityTerm: corev1.PodAffinityTerm{
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{
				LabelWorkload: naming.WorkloadLabelValue(wl.Name),
			}},
			TopologyKey: hostnameTopology,
		},
	}}
	switch placement {
	case "", doradev1.AffinityRandom, doradev1.AffinityFirst:
		// The scheduler's own scoring places them.
	case doradev1.AffinityDistribute:
		aff.PodAntiAffinity = &corev1.PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: siblings}
	case doradev1.AffinityFill:
		aff.PodAffinity = &corev1.PodAffinity{PreferredDuringSchedulingIgnoredDuringExecution: siblings}
	default:
		return nil, fmt.Errorf("config.affinity: %q is not a placement; use Random, First, Distribute or Fill", placement)
	}
	return aff, nil
}

// nodeRequirement is the one node selector term a replica's node must match: the node takes
// the workload's class, has one of the GPU and CPU models asked for, and is the node asked
// for. All of them must hold, so they go into one term (separate terms would be ORed).
func nodeRequirement(wl *doradev1.Workload, gpus int64) (corev1.NodeSelectorTerm, error) {
	var term corev1.NodeSelectorTerm
	// NotIn matches nodes without the label too: an unlabelled node takes both classes.
	classLabel := doradev1.LabelAllowCPUWorkload
	if gpus > 0 {
		classLabel = doradev1.LabelAllowGPUWorkload
	}
	term.MatchExpressions = append(term.MatchExpressions, corev1.NodeSelectorRequirement{
		Key: classLabel, Operator: corev1.NodeSelectorOpNotIn, Values: []string{"false"},
	})
	sel := wl.Spec.Selectors
	if sel.GPU != nil {
		products, err := productLabels("selectors.gpu.product_name", sel.GPU.ProductName)
		if err != nil {
			return term, err
		}
		if products != nil {
			term.MatchExpressions = append(term.MatchExpressions, corev1.NodeSelectorRequirement{
				Key: gpu.LabelProduct, Operator: corev1.NodeSelectorOpIn, Values: products,
			})
		}
	}
	if sel.CPU != nil {
		products, err := productLabels("selectors.cpu.product_name", sel.CPU.ProductName)
		if err != nil {
			return term, err
		}
		if products != nil {
			term.MatchExpressions = append(term.MatchExpressions, corev1.NodeSelectorRequirement{
				Key: gpu.LabelCPUProduct, Operator: corev1.NodeSelectorOpIn, Values: products,
			})
		}
	}
	// A node affinity rather than spec.nodeName: the scheduler still places the pod, so it
	// still says why a pod waits (no GPUs free on that node, node cordoned...).
	if sel.Node != nil && sel.Node.Name != "" && sel.Node.Name != doradev1.All {
		term.MatchFields = []corev1.NodeSelectorRequirement{{
			Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{sel.Node.Name},
		}}
	}
	return term, nil
}

// productLabels are the node label values that match a product_name, sanitised as the node
// side labels them, without repeats; nil when any product will do (All, or nothing given).
func productLabels(field string, products doradev1.StringOrList) ([]string, error) {
	if len(products.Values) == 0 || slices.Contains(products.Values, doradev1.All) {
		return nil, nil
	}
	values := make([]string, 0, len(products.Values))
	for i, product := range products.Values {
		value := gpu.ProductLabel(product)
		if value == "" {
			path := field
			if products.IsList {
				path = fmt.Sprintf("%s[%d]", field, i)
			}
			return nil, fmt.Errorf("%s: %q is not a model name; give a name such as \"Tesla V100-SXM2-16GB\", or All", path, product)
		}
		if !slices.Contains(values, value) {
			values = append(values, value)
		}
	}
	return values, nil
}
