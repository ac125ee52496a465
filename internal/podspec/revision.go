package podspec

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// TemplateHash is the revision of the workload's spec: a short hash (10 hex digits) of
// everything under spec except replica.count, which only scales, and paused, which only
// removes the pods. Pods and services carry it in LabelRevision; a pod with another revision
// is outdated and is replaced.
//
// Two specs that build the same pods hash alike where it is cheap to see: defaults the API
// server fills in (driver, pullPolicy, restartPolicy, affinity, network mode, port kind and
// protocol) count as given, tcp is TCP, a GPU count of 2 is "2", a CPU count of "1000m" is 1,
// a cmd string is the list of its words, and a product_name string is a list of one.
// So a Workload built in memory and the same Workload read back from the API server share a
// revision, and rewriting a value in another form replaces nothing.
func TemplateHash(wl *doradev1.Workload) string {
	spec := normalisedSpec(wl)
	data, err := json.Marshal(spec)
	if err != nil {
		// Cannot happen: a spec holds no channel, func or marshaller that fails.
		panic("workload: spec does not marshal: " + err.Error())
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:5])
}

// normalisedSpec is a copy of the spec without replica and paused, with defaults filled in and
// equivalent forms made one.
func normalisedSpec(wl *doradev1.Workload) *doradev1.WorkloadSpec {
	spec := wl.Spec.DeepCopy()
	spec.Replica = nil
	spec.Paused = false
	spec.Driver = orDefault(spec.Driver, doradev1.DriverDocker)
	spec.Image.PullPolicy = orDefault(spec.Image.PullPolicy, string(corev1.PullIfNotPresent))
	if spec.Notify != nil && !spec.Notify.ByEmail {
		spec.Notify = nil
	}
	if gpu := spec.Selectors.GPU; gpu != nil {
		gpu.ProductName = products(gpu.ProductName)
		if n, err := gpuCount(wl); err == nil && gpu.Count != nil {
			gpu.Count = ptr.To(intstr.FromString(strconv.FormatInt(n, 10)))
		}
	}
	if cpu := spec.Selectors.CPU; cpu != nil {
		cpu.ProductName = products(cpu.ProductName)
		if q, err := CPUQuantity(cpu.Count); err == nil && cpu.Count != nil {
			cpu.Count = ptr.To(intstr.FromString(q.String()))
		}
	}
	if spec.Config == nil {
		spec.Config = &doradev1.ContainerConfig{}
	}
	if a := args(spec.Config.Cmd); a != nil {
		spec.Config.Cmd = doradev1.NewList(a...)
	} else {
		spec.Config.Cmd = doradev1.StringOrList{}
	}
	spec.Config.RestartPolicy = orDefault(spec.Config.RestartPolicy, string(corev1.RestartPolicyNever))
	spec.Config.Affinity = orDefault(spec.Config.Affinity, doradev1.AffinityRandom)
	if spec.Network != nil {
		spec.Network.Mode = orDefault(spec.Network.Mode, doradev1.NetworkModeBridge)
		for i := range spec.Network.Ports {
			p := &spec.Network.Ports[i]
			p.Kind = orDefault(p.Kind, "NodePort")
			p.Protocol = orDefault(strings.ToLower(p.Protocol), "tcp")
		}
	}
	return spec
}

func orDefault(value, def string) string {
	if value == "" {
		return def
	}
	return value
}

// products makes the forms of one product_name one: a string is a list of one, and All,
// anywhere, is the same as nothing given.
func products(p doradev1.StringOrList) doradev1.StringOrList {
	if len(p.Values) == 0 || slices.Contains(p.Values, doradev1.All) {
		return doradev1.StringOrList{}
	}
	return doradev1.NewList(p.Values...)
}
