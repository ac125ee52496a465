package podspec

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// mustBuildPod builds a pod that must build.
func mustBuildPod(t *testing.T, wl *doradev1.Workload, index int32, in PodInputs) *corev1.Pod {
	t.Helper()
	pod, err := BuildPod(wl, index, in)
	if err != nil {
		t.Fatalf("BuildPod: %v", err)
	}
	return pod
}

// Every pod says which workload, replica and revision it belongs to, and keeps the workload's
// full name where the label could not.
func TestBuildPodMetadata(t *testing.T) {
	long := strings.Repeat("long.", 20) + "name"
	cases := map[string]struct {
		wl    *doradev1.Workload
		index int32
		want  metav1.ObjectMeta
	}{
		"replica 3 of blue.red": {
			wl:    makeWorkload().Obj(),
			index: 3,
			want: metav1.ObjectMeta{
				Name:        "blue.red-3",
				Namespace:   "amedeo-setti",
				Labels:      map[string]string{LabelWorkload: "blue.red", LabelReplica: "3", LabelRevision: TemplateHash(makeWorkload().Obj())},
				Annotations: map[string]string{AnnotationWorkload: "blue.red"},
			},
		},
		"a name too long for a label value is shortened in the label only": {
			wl:    makeWorkload().Named(long).Obj(),
			index: 0,
			want: metav1.ObjectMeta{
				Name:        long + "-0",
				Namespace:   "amedeo-setti",
				Labels:      map[string]string{LabelWorkload: "long.long.long.long.long.long.long.long.long.long.long-651632d0", LabelReplica: "0", LabelRevision: TemplateHash(makeWorkload().Obj())},
				Annotations: map[string]string{AnnotationWorkload: long},
			},
		},
		"an owned workload's pods name the owner and wait for the credit controller": {
			wl:    makeWorkload().Owner("amedeo").Obj(),
			index: 0,
			want: metav1.ObjectMeta{
				Name:        "blue.red-0",
				Namespace:   "amedeo-setti",
				Labels:      map[string]string{LabelWorkload: "blue.red", LabelReplica: "0", LabelRevision: TemplateHash(makeWorkload().Obj())},
				Annotations: map[string]string{AnnotationWorkload: "blue.red", doradev1.AnnotationOwner: "amedeo"},
				Finalizers:  []string{doradev1.FinalizerCredits},
			},
		},
		"an unowned workload's GPU pods wait for the credit controller too: the zone counts their time": {
			wl:    makeWorkload().GPU(intstr.FromInt32(1), doradev1.StringOrList{Values: []string{doradev1.All}}).Obj(),
			index: 0,
			want: metav1.ObjectMeta{
				Name:        "blue.red-0",
				Namespace:   "amedeo-setti",
				Labels:      map[string]string{LabelWorkload: "blue.red", LabelReplica: "0", LabelRevision: TemplateHash(makeWorkload().GPU(intstr.FromInt32(1), doradev1.StringOrList{Values: []string{doradev1.All}}).Obj())},
				Annotations: map[string]string{AnnotationWorkload: "blue.red"},
				Finalizers:  []string{doradev1.FinalizerCredits},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			pod := mustBuildPod(t, tc.wl, tc.index, PodInputs{})
			if diff := cmp.Diff(tc.want, pod.ObjectMeta); diff != "" {
				t.Errorf("metadata (-want +got):\n%s", diff)
			}
			if len(pod.OwnerReferences) != 0 {
				t.Errorf("owner references = %v, want none: the controller sets them", pod.OwnerReferences)
			}
		})
	}
}

// spec.hostname, or the workload name made a DNS label, followed by the replica index.
// Hashes in expected names are pinned on purpose: they are part of names in live clusters.
func TestBuildPodHostname(t *testing.T) {
	cases := map[string]struct {
		wl    *doradev1.Workload
		index int32
		want  string
	}{
		"the workload name with dots made dashes": {wl: makeWorkload().Obj(), index: 0, want: "blue-red-0"},
		"each replica its own":                    {wl: makeWorkload().Obj(), index: 12, want: "blue-red-12"},
		"spec.hostname replaces the name":         {wl: makeWorkload().Hostname("trainer").Obj(), index: 1, want: "trainer-1"},
		"a long name is cut to fit 63 with the index": {
			wl:    makeWorkload().Named(strings.Repeat("a", 70)).Obj(),
			index: 7,
			want:  strings.Repeat("a", 52) + "-" + "6bd5e503" + "-7",
		},
		"a 63-character spec.hostname still gets the index": {
			wl:    makeWorkload().Hostname(strings.Repeat("h", 63)).Obj(),
			index: 0,
			want:  strings.Repeat("h", 52) + "-" + "98918cd4" + "-0",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			pod := mustBuildPod(t, tc.wl, tc.index, PodInputs{})
			if pod.Spec.Hostname != tc.want {
				t.Errorf("hostname = %q, want %q", pod.Spec.Hostname, tc.want)
			}
		})
	}
}

// The one container: image and pull policy, config.cmd as args (the image's ENTRYPOINT
// stays), config.env, and network.ports as container ports.
func TestBuildPodContainer(t *testing.T) {
	container := func(edit func(*corev1.Container)) corev1.Container {
		c := corev1.Container{Name: "workload", Image: "ubuntu", ImagePullPolicy: corev1.PullIfNotPresent,
			SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false)}}
		if edit != nil {
			edit(&c)
		}
		return c
	}
	cases := map[string]struct {
		wl   *doradev1.Workload
		want corev1.Container
	}{
		"pullPolicy defaults to IfNotPresent": {
			wl:   makeWorkload().Obj(),
			want: container(nil),
		},
		"pullPolicy Always": {
			wl: makeWorkload().Image("nvcr.io/nvidia/pytorch:24.05-py3", "Always").Obj(),
			want: container(func(c *corev1.Container) {
				c.Image, c.ImagePullPolicy = "nvcr.io/nvidia/pytorch:24.05-py3", corev1.PullAlways
			}),
		},
		"pullPolicy Never": {
			wl:   makeWorkload().Image("ubuntu", "Never").Obj(),
			want: container(func(c *corev1.Container) { c.ImagePullPolicy = corev1.PullNever }),
		},
		"a cmd string is split on whitespace into args": {
			wl:   makeWorkload().Cmd(doradev1.NewString("  python train.py\t--epochs 3 ")).Obj(),
			want: container(func(c *corev1.Container) { c.Args = []string{"python", "train.py", "--epochs", "3"} }),
		},
		"a cmd list is kept as it is": {
			wl:   makeWorkload().Cmd(doradev1.NewList("bash", "-c", "echo hello world")).Obj(),
			want: container(func(c *corev1.Container) { c.Args = []string{"bash", "-c", "echo hello world"} }),
		},
		"an empty cmd keeps the image's CMD": {
			wl:   makeWorkload().Cmd(doradev1.NewString("  ")).Obj(),
			want: container(nil),
		},
		"env entries split at the first =": {
			wl: makeWorkload().Env("EPOCHS=3", "QUERY=a=b", "EMPTY=").Obj(),
			want: container(func(c *corev1.Container) {
				c.Env = []corev1.EnvVar{{Name: "EPOCHS", Value: "3"}, {Name: "QUERY", Value: "a=b"}, {Name: "EMPTY", Value: ""}}
			}),
		},
		"ports: protocol upper-cased, TCP by default, a name Kubernetes cannot take is dropped": {
			wl: makeWorkload().
				Port(doradev1.PortSpec{Name: "first", Protocol: "tcp", Port: 8008, NodePort: 25000}).
				Port(doradev1.PortSpec{Name: "DNS", Protocol: "udp", Port: 53}).
				Port(doradev1.PortSpec{Port: 6006}).
				Port(doradev1.PortSpec{Name: "jupyter notebook", Protocol: "SCTP", Port: 8888}).
				Obj(),
			want: container(func(c *corev1.Container) {
				c.Ports = []corev1.ContainerPort{
					{Name: "first", ContainerPort: 8008, Protocol: corev1.ProtocolTCP},
					{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP},
					{ContainerPort: 6006, Protocol: corev1.ProtocolTCP},
					{ContainerPort: 8888, Protocol: corev1.ProtocolSCTP},
				}
			}),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			pod := mustBuildPod(t, tc.wl, 0, PodInputs{})
			if len(pod.Spec.Containers) != 1 {
				t.Fatalf("%d containers, want 1", len(pod.Spec.Containers))
			}
			if diff := cmp.Diff(tc.want, pod.Spec.Containers[0]); diff != "" {
				t.Errorf("container (-want +got):\n%s", diff)
			}
		})
	}
}

// selectors.gpu.count is a GPU limit; selectors.cpu.count is both request and limit.
func TestBuildPodResources(t *testing.T) {
	cpu := func(q string) corev1.ResourceList {
		return corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(q)}
	}
	cases := map[string]struct {
		wl   *doradev1.Workload
		want corev1.ResourceRequirements
	}{
		"no selectors ask for nothing": {
			wl:   makeWorkload().Obj(),
			want: corev1.ResourceRequirements{},
		},
		"gpu count 2": {
			wl:   makeWorkload().GPU(intstr.FromInt32(2), doradev1.StringOrList{}).Obj(),
			want: corev1.ResourceRequirements{Limits: corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("2")}},
		},
		"gpu count \"4\" as a string": {
			wl:   makeWorkload().GPU(intstr.FromString("4"), doradev1.StringOrList{}).Obj(),
			want: corev1.ResourceRequirements{Limits: corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("4")}},
		},
		"gpu count 0 asks for no GPU": {
			wl:   makeWorkload().GPU(intstr.FromInt32(0), doradev1.StringOrList{}).Obj(),
			want: corev1.ResourceRequirements{},
		},
		"cpu count 2": {
			wl:   makeWorkload().CPU(intstr.FromInt32(2), doradev1.StringOrList{}).Obj(),
			want: corev1.ResourceRequirements{Requests: cpu("2"), Limits: cpu("2")},
		},
		"cpu count \"0.5\"": {
			wl:   makeWorkload().CPU(intstr.FromString("0.5"), doradev1.StringOrList{}).Obj(),
			want: corev1.ResourceRequirements{Requests: cpu("500m"), Limits: cpu("500m")},
		},
		"cpu count \"250m\"": {
			wl:   makeWorkload().CPU(intstr.FromString("250m"), doradev1.StringOrList{}).Obj(),
			want: corev1.ResourceRequirements{Requests: cpu("250m"), Limits: cpu("250m")},
		},
		"cpu count 0 asks for nothing (a zero limit would mean no limit)": {
			wl:   makeWorkload().CPU(intstr.FromInt32(0), doradev1.StringOrList{}).Obj(),
			want: corev1.ResourceRequirements{},
		},
		"gpus and cpus together": {
			wl: makeWorkload().GPU(intstr.FromInt32(1), doradev1.StringOrList{}).CPU(intstr.FromInt32(8), doradev1.StringOrList{}).Obj(),
			want: corev1.ResourceRequirements{
				Requests: cpu("8"),
				Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("8"), "nvidia.com/gpu": resource.MustParse("1")},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			pod := mustBuildPod(t, tc.wl, 0, PodInputs{})
			if diff := cmp.Diff(tc.want, pod.Spec.Containers[0].Resources); diff != "" {
				t.Errorf("resources (-want +got):\n%s", diff)
			}
		})
	}
}

// Where a replica may run: one required node selector term, so that every requirement in it
// must hold. A node takes the workload's class unless its Dora Node forbids it (label
// "false"; an unlabelled node takes both), has one of the models asked for, and is the node
// asked for.
func TestBuildPodNodeAffinity(t *testing.T) {
	cpuClass := corev1.NodeSelectorRequirement{Key: "workload.dora.dev/cpu", Operator: corev1.NodeSelectorOpNotIn, Values: []string{"false"}}
	gpuClass := corev1.NodeSelectorRequirement{Key: "workload.dora.dev/gpu", Operator: corev1.NodeSelectorOpNotIn, Values: []string{"false"}}
	gpuModels := func(models ...string) corev1.NodeSelectorRequirement {
		return corev1.NodeSelectorRequirement{Key: "nvidia.com/gpu.product", Operator: corev1.NodeSelectorOpIn, Values: models}
	}
	cpuModels := func(models ...string) corev1.NodeSelectorRequirement {
		return corev1.NodeSelectorRequirement{Key: "dora.dev/cpu.product", Operator: corev1.NodeSelectorOpIn, Values: models}
	}
	onNode := func(name string) []corev1.NodeSelectorRequirement {
		return []corev1.NodeSelectorRequirement{{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{name}}}
	}
	two := intstr.FromInt32(2)
	cases := map[string]struct {
		wl   *doradev1.Workload
		want corev1.NodeSelectorTerm
	}{
		"no GPU: a CPU workload": {
			wl:   makeWorkload().Obj(),
			want: corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{cpuClass}},
		},
		"GPUs of any model: a GPU workload": {
			wl:   makeWorkload().GPU(two, doradev1.NewString("All")).Obj(),
			want: corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{gpuClass}},
		},
		"GPU product_name left out means any model": {
			wl:   makeWorkload().GPU(two, doradev1.StringOrList{}).Obj(),
			want: corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{gpuClass}},
		},
		"one GPU model, sanitised as the node labels are": {
			wl:   makeWorkload().GPU(two, doradev1.NewString("Tesla V100-SXM2-16GB")).Obj(),
			want: corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{gpuClass, gpuModels("Tesla-V100-SXM2-16GB")}},
		},
		"a list of GPU models: any of them": {
			wl:   makeWorkload().GPU(two, doradev1.NewList("Quadro RTX 6000", "NVIDIA H100 80GB HBM3")).Obj(),
			want: corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{gpuClass, gpuModels("Quadro-RTX-6000", "NVIDIA-H100-80GB-HBM3")}},
		},
		"a list holding All: any model": {
			wl:   makeWorkload().GPU(two, doradev1.NewList("All")).Obj(),
			want: corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{gpuClass}},
		},
		"two spellings of one model give one value": {
			wl:   makeWorkload().GPU(two, doradev1.NewList("Tesla V100-SXM2-16GB", "Tesla  V100-SXM2-16GB")).Obj(),
			want: corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{gpuClass, gpuModels("Tesla-V100-SXM2-16GB")}},
		},
		"a GPU model with no GPUs still picks the nodes, as a CPU workload": {
			wl:   makeWorkload().GPU(intstr.FromInt32(0), doradev1.NewString("Tesla V100-SXM2-16GB")).Obj(),
			want: corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{cpuClass, gpuModels("Tesla-V100-SXM2-16GB")}},
		},
		"a CPU model": {
			wl:   makeWorkload().CPU(intstr.FromInt32(1), doradev1.NewString("Intel(R) Xeon(R) Gold 6130 CPU @ 2.10GHz")).Obj(),
			want: corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{cpuClass, cpuModels("IntelR-XeonR-Gold-6130-CPU-2.10GHz")}},
		},
		"CPU model All": {
			wl:   makeWorkload().CPU(intstr.FromInt32(1), doradev1.NewString("All")).Obj(),
			want: corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{cpuClass}},
		},
		"node name pins by field, not spec.nodeName, so the scheduler still says why a pod waits": {
			wl:   makeWorkload().Node("emcprom09").Obj(),
			want: corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{cpuClass}, MatchFields: onNode("emcprom09")},
		},
		"node All: anywhere": {
			wl:   makeWorkload().Node("All").Obj(),
			want: corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{cpuClass}},
		},
		"everything at once, all in one term": {
			wl: makeWorkload().
				GPU(two, doradev1.NewList("Tesla V100-SXM2-16GB")).
				CPU(intstr.FromString("4"), doradev1.NewList("AMD EPYC 7742 64-Core Processor")).
				Node("emcprom09").Obj(),
			want: corev1.NodeSelectorTerm{
				MatchExpressions: []corev1.NodeSelectorRequirement{gpuClass, gpuModels("Tesla-V100-SXM2-16GB"), cpuModels("AMD-EPYC-7742-64-Core-Processor")},
				MatchFields:      onNode("emcprom09"),
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			pod := mustBuildPod(t, tc.wl, 0, PodInputs{})
			aff := pod.Spec.Affinity
			if aff == nil || aff.NodeAffinity == nil || aff.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
				t.Fatalf("no required node affinity: %+v", aff)
			}
			if pod.Spec.NodeName != "" || pod.Spec.NodeSelector != nil {
				t.Errorf("nodeName %q, nodeSelector %v: want the node affinity alone", pod.Spec.NodeName, pod.Spec.NodeSelector)
			}
			if aff.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution != nil {
				t.Errorf("preferred node affinity %v, want none", aff.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution)
			}
			want := []corev1.NodeSelectorTerm{tc.want}
			if diff := cmp.Diff(want, aff.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms); diff != "" {
				t.Errorf("required node selector terms (-want +got):\n%s", diff)
			}
		})
	}
}

// config.affinity: Random and First leave placement to the scheduler; Distribute prefers
// nodes without a sibling replica; Fill prefers nodes with one.
func TestBuildPodPlacement(t *testing.T) {
	siblings := []corev1.WeightedPodAffinityTerm{{
		Weight: 100,
		PodAffinityTerm: corev1.PodAffinityTerm{
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{LabelWorkload: "blue.red"}},
			TopologyKey:   "kubernetes.io/hostname",
		},
	}}
	cases := map[string]struct {
		affinity         string
		wantAffinity     *corev1.PodAffinity
		wantAntiAffinity *corev1.PodAntiAffinity
	}{
		"left out (Random)": {affinity: ""},
		"Random":            {affinity: "Random"},
		"First":             {affinity: "First"},
		"Distribute spreads the replicas": {
			affinity:         "Distribute",
			wantAntiAffinity: &corev1.PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: siblings},
		},
		"Fill packs the replicas": {
			affinity:     "Fill",
			wantAffinity: &corev1.PodAffinity{PreferredDuringSchedulingIgnoredDuringExecution: siblings},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			pod := mustBuildPod(t, makeWorkload().Affinity(tc.affinity).Obj(), 1, PodInputs{})
			if diff := cmp.Diff(tc.wantAffinity, pod.Spec.Affinity.PodAffinity); diff != "" {
				t.Errorf("pod affinity (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantAntiAffinity, pod.Spec.Affinity.PodAntiAffinity); diff != "" {
				t.Errorf("pod anti-affinity (-want +got):\n%s", diff)
			}
		})
	}
}

// config.shmSize is a memory-backed /dev/shm; spec.volumes are the claims the controller found,
// mounted at their targets, read-only when the claim or the entry says so.
func TestBuildPodVolumes(t *testing.T) {
	claim := func(name string, readOnly bool) corev1.Volume {
		return corev1.Volume{Name: "", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: name, ReadOnly: readOnly}}}
	}
	named := func(name string, v corev1.Volume) corev1.Volume { v.Name = name; return v }
	cases := map[string]struct {
		wl         *doradev1.Workload
		in         PodInputs
		wantVols   []corev1.Volume
		wantMounts []corev1.VolumeMount
	}{
		"none": {wl: makeWorkload().Obj()},
		"shmSize 2 GiB": {
			wl: makeWorkload().ShmSize(2 << 30).Obj(),
			wantVols: []corev1.Volume{{Name: "dshm", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{
				Medium: corev1.StorageMediumMemory, SizeLimit: ptr.To(resource.MustParse("2147483648")),
			}}}},
			wantMounts: []corev1.VolumeMount{{Name: "dshm", MountPath: "/dev/shm"}},
		},
		"shmSize 0 keeps the runtime's /dev/shm": {wl: makeWorkload().ShmSize(0).Obj()},
		"a volume of the workspace, with a subpath": {
			wl:         makeWorkload().Volume(doradev1.WorkloadVolume{Name: "home", Target: "/home", Subpath: "projects/a"}).Obj(),
			in:         PodInputs{Claims: []VolumeClaim{{ClaimName: "home"}}},
			wantVols:   []corev1.Volume{named("vol-0", claim("home", false))},
			wantMounts: []corev1.VolumeMount{{Name: "vol-0", MountPath: "/home", SubPath: "projects/a"}},
		},
		"a claim the workload may only read is mounted read-only": {
			wl:         makeWorkload().Volume(doradev1.WorkloadVolume{Name: "imagenet", Workspace: "datasets", Target: "/data"}).Obj(),
			in:         PodInputs{Claims: []VolumeClaim{{ClaimName: "shared.datasets.imagenet.0f0f0f0f", ReadOnly: true}}},
			wantVols:   []corev1.Volume{named("vol-0", claim("shared.datasets.imagenet.0f0f0f0f", true))},
			wantMounts: []corev1.VolumeMount{{Name: "vol-0", MountPath: "/data", ReadOnly: true}},
		},
		"readOnly on the entry makes a writable claim read-only": {
			wl:         makeWorkload().Volume(doradev1.WorkloadVolume{Name: "home", Target: "/home", ReadOnly: true}).Obj(),
			in:         PodInputs{Claims: []VolumeClaim{{ClaimName: "home"}}},
			wantVols:   []corev1.Volume{named("vol-0", claim("home", true))},
			wantMounts: []corev1.VolumeMount{{Name: "vol-0", MountPath: "/home", ReadOnly: true}},
		},
		"shm first, then the volumes in spec order": {
			wl: makeWorkload().ShmSize(64 << 20).
				Volume(doradev1.WorkloadVolume{Name: "home", Target: "/home"}).
				Volume(doradev1.WorkloadVolume{Name: "scratch", Target: "/scratch"}).Obj(),
			in: PodInputs{Claims: []VolumeClaim{{ClaimName: "home"}, {ClaimName: "scratch"}}},
			wantVols: []corev1.Volume{
				{Name: "dshm", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{
					Medium: corev1.StorageMediumMemory, SizeLimit: ptr.To(resource.MustParse("67108864")),
				}}},
				named("vol-0", claim("home", false)),
				named("vol-1", claim("scratch", false)),
			},
			wantMounts: []corev1.VolumeMount{
				{Name: "dshm", MountPath: "/dev/shm"},
				{Name: "vol-0", MountPath: "/home"},
				{Name: "vol-1", MountPath: "/scratch"},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			pod := mustBuildPod(t, tc.wl, 0, tc.in)
			if diff := cmp.Diff(tc.wantVols, pod.Spec.Volumes); diff != "" {
				t.Errorf("volumes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantMounts, pod.Spec.Containers[0].VolumeMounts); diff != "" {
				t.Errorf("volume mounts (-want +got):\n%s", diff)
			}
		})
	}
}

// config.restartPolicy, config.maxRunTime and network.mode, and what every pod has: no
// service links, no API token.
func TestBuildPodRunSettings(t *testing.T) {
	type settings struct {
		RestartPolicy                corev1.RestartPolicy
		ActiveDeadlineSeconds        *int64
		HostNetwork                  bool
		DNSPolicy                    corev1.DNSPolicy
		EnableServiceLinks           *bool
		AutomountServiceAccountToken *bool
	}
	base := settings{RestartPolicy: corev1.RestartPolicyNever, EnableServiceLinks: ptr.To(false), AutomountServiceAccountToken: ptr.To(false)}
	with := func(edit func(*settings)) settings { s := base; edit(&s); return s }
	cases := map[string]struct {
		wl   *doradev1.Workload
		want settings
	}{
		"defaults: never restarted, no deadline, pod network": {wl: makeWorkload().Obj(), want: base},
		"restartPolicy Always": {
			wl:   makeWorkload().RestartPolicy("Always").Obj(),
			want: with(func(s *settings) { s.RestartPolicy = corev1.RestartPolicyAlways }),
		},
		"restartPolicy OnFailure": {
			wl:   makeWorkload().RestartPolicy("OnFailure").Obj(),
			want: with(func(s *settings) { s.RestartPolicy = corev1.RestartPolicyOnFailure }),
		},
		"restartPolicy Never": {wl: makeWorkload().RestartPolicy("Never").Obj(), want: base},
		"maxRunTime 2h is a deadline of 7200 s": {
			wl:   makeWorkload().MaxRunTime("2h").Obj(),
			want: with(func(s *settings) { s.ActiveDeadlineSeconds = ptr.To[int64](7200) }),
		},
		"network mode host": {
			wl: makeWorkload().NetworkMode("host").Obj(),
			want: with(func(s *settings) {
				s.HostNetwork, s.DNSPolicy = true, corev1.DNSClusterFirstWithHostNet
			}),
		},
		"network mode bridge is the pod network": {wl: makeWorkload().NetworkMode("bridge").Obj(), want: base},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			spec := mustBuildPod(t, tc.wl, 0, PodInputs{}).Spec
			got := settings{
				RestartPolicy:                spec.RestartPolicy,
				ActiveDeadlineSeconds:        spec.ActiveDeadlineSeconds,
				HostNetwork:                  spec.HostNetwork,
				DNSPolicy:                    spec.DNSPolicy,
				EnableServiceLinks:           spec.EnableServiceLinks,
				AutomountServiceAccountToken: spec.AutomountServiceAccountToken,
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("pod settings (-want +got):\n%s", diff)
			}
		})
	}
}

// BuildPod refuses what the API server should have refused, naming the field, and builds no
// pod.
func TestBuildPodErrors(t *testing.T) {
	home := doradev1.WorkloadVolume{Name: "home", Target: "/home"}
	cases := map[string]struct {
		wl      *doradev1.Workload
		index   int32
		in      PodInputs
		wantErr string
	}{
		"negative index":            {wl: makeWorkload().Obj(), index: -1, wantErr: "replica index -1 is negative"},
		"another driver":            {wl: makeWorkload().Driver("Podman").Obj(), wantErr: `spec.driver: "Podman" is not a driver`},
		"no image":                  {wl: makeWorkload().Image("", "").Obj(), wantErr: "image.image: required"},
		"unknown pull policy":       {wl: makeWorkload().Image("ubuntu", "Sometimes").Obj(), wantErr: `image.pullPolicy: "Sometimes"`},
		"gpu count not a number":    {wl: makeWorkload().GPU(intstr.FromString("two"), doradev1.StringOrList{}).Obj(), wantErr: `selectors.gpu.count: "two" is not a whole number`},
		"gpu count a fraction":      {wl: makeWorkload().GPU(intstr.FromString("0.5"), doradev1.StringOrList{}).Obj(), wantErr: `selectors.gpu.count: "0.5"`},
		"gpu count negative":        {wl: makeWorkload().GPU(intstr.FromInt32(-1), doradev1.StringOrList{}).Obj(), wantErr: "selectors.gpu.count: -1 is negative"},
		"cpu count not a count":     {wl: makeWorkload().CPU(intstr.FromString("lots"), doradev1.StringOrList{}).Obj(), wantErr: `selectors.cpu.count: "lots" is not a CPU count`},
		"cpu count with a unit":     {wl: makeWorkload().CPU(intstr.FromString("1Ki"), doradev1.StringOrList{}).Obj(), wantErr: `selectors.cpu.count: "1Ki"`},
		"cpu count negative":        {wl: makeWorkload().CPU(intstr.FromInt32(-2), doradev1.StringOrList{}).Obj(), wantErr: "selectors.cpu.count: -2 is negative"},
		"gpu model without letters": {wl: makeWorkload().GPU(intstr.FromInt32(1), doradev1.NewList("Tesla V100", "®")).Obj(), wantErr: `selectors.gpu.product_name[1]: "®" is not a model name`},
		"cpu model without letters": {wl: makeWorkload().CPU(intstr.FromInt32(1), doradev1.NewString("()")).Obj(), wantErr: `selectors.cpu.product_name: "()" is not a model name`},
		"env without =":             {wl: makeWorkload().Env("A=1", "DEBUG").Obj(), wantErr: `config.env[1]: "DEBUG" must look like NAME=value`},
		"env without a name":        {wl: makeWorkload().Env("=1").Obj(), wantErr: `config.env[0]: "=1" must look like NAME=value`},
		"negative shmSize":          {wl: makeWorkload().ShmSize(-1).Obj(), wantErr: "config.shmSize: -1 is negative"},
		"unknown restart policy":    {wl: makeWorkload().RestartPolicy("Sometimes").Obj(), wantErr: `config.restartPolicy: "Sometimes"`},
		"maxRunTime without a unit": {wl: makeWorkload().MaxRunTime("90").Obj(), wantErr: `config.maxRunTime: "90" must be a number and a unit`},
		"unknown affinity":          {wl: makeWorkload().Affinity("Spread").Obj(), wantErr: `config.affinity: "Spread" is not a placement`},
		"unknown network mode":      {wl: makeWorkload().NetworkMode("overlay").Obj(), wantErr: `network.mode: "overlay"`},
		"unknown protocol":          {wl: makeWorkload().Port(doradev1.PortSpec{Port: 80, Protocol: "http"}).Obj(), wantErr: `network.ports[0].protocol: "http" is not a protocol`},
		"port out of range":         {wl: makeWorkload().Port(doradev1.PortSpec{Port: 70000}).Obj(), wantErr: "network.ports[0].port: 70000 is not a port number"},
		"fewer claims than volumes": {wl: makeWorkload().Volume(home).Obj(), wantErr: "spec.volumes: 1 volumes but 0 claims"},
		"more claims than volumes":  {wl: makeWorkload().Obj(), in: PodInputs{Claims: []VolumeClaim{{ClaimName: "home"}}}, wantErr: "spec.volumes: 0 volumes but 1 claims"},
		"a claim without a name":    {wl: makeWorkload().Volume(home).Obj(), in: PodInputs{Claims: []VolumeClaim{{}}}, wantErr: "spec.volumes[0] (home): no claim"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			pod, err := BuildPod(tc.wl, tc.index, tc.in)
			if err == nil {
				t.Fatalf("BuildPod built %s, want an error containing %q", pod.Name, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error = %q, want it to contain %q", err, tc.wantErr)
			}
			if pod != nil {
				t.Errorf("BuildPod returned a pod with its error")
			}
		})
	}
}

// Pods are named <workload>-<index>; the hash below is pinned on purpose (pod names in live
// clusters depend on it).
func TestPodName(t *testing.T) {
	long := strings.Repeat("x", 253)
	cases := map[string]struct {
		name  string
		index int32
		want  string
	}{
		"dots stay":                      {name: "blue.red", index: 1, want: "blue.red-1"},
		"index 0":                        {name: "train", index: 0, want: "train-0"},
		"a name too long for the suffix": {name: long, index: 10, want: strings.Repeat("x", 241) + "-" + "1329e1bd" + "-10"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := PodName(makeWorkload().Named(tc.name).Obj(), tc.index); got != tc.want {
				t.Errorf("PodName(%q, %d) = %q, want %q", tc.name, tc.index, got, tc.want)
			}
		})
	}
}

// baselineViolations lists what in pod the baseline Pod Security level refuses (the checks
// that a pod BuildPod makes could ever fail; the real admission runs in
// test/integration/lockdown_test.go).
func baselineViolations(pod *corev1.Pod) []string {
	var out []string
	spec := pod.Spec
	if spec.HostNetwork || spec.HostPID || spec.HostIPC {
		out = append(out, "host namespaces")
	}
	for _, v := range spec.Volumes {
		if v.HostPath != nil {
			out = append(out, "hostPath volume "+v.Name)
		}
	}
	if sc := spec.SecurityContext; sc != nil && sc.SeccompProfile != nil && sc.SeccompProfile.Type == corev1.SeccompProfileTypeUnconfined {
		out = append(out, "seccomp Unconfined")
	}
	for _, c := range spec.Containers {
		for _, p := range c.Ports {
			if p.HostPort != 0 {
				out = append(out, "host port")
			}
		}
		if sc := c.SecurityContext; sc != nil {
			if sc.Privileged != nil && *sc.Privileged {
				out = append(out, "privileged")
			}
			if sc.Capabilities != nil && len(sc.Capabilities.Add) > 0 {
				out = append(out, "added capabilities")
			}
			if sc.SeccompProfile != nil && sc.SeccompProfile.Type == corev1.SeccompProfileTypeUnconfined {
				out = append(out, "seccomp Unconfined")
			}
		}
	}
	return out
}

// Every pod gets an explicit security context that passes baseline and keeps root images
// working: RuntimeDefault seccomp, no privilege escalation, the image's own user. In a
// restricted workspace it also runs as non-root with every capability dropped. Only the
// host network is outside baseline: it needs a privileged workspace.
func TestBuildPodSecurity(t *testing.T) {
	runtimeDefault := &corev1.PodSecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}}
	baseline := &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false)}
	restricted := &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false), RunAsNonRoot: ptr.To(true),
		Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}
	everything := makeWorkload().GPU(intstr.FromInt32(2), doradev1.NewString("Tesla V100-SXM2-16GB")).ShmSize(1 << 30).
		Volume(doradev1.WorkloadVolume{Name: "home", Target: "/home"}).
		Port(doradev1.PortSpec{Name: "first", Port: 8008, NodePort: 25000}).Obj()
	home := PodInputs{Claims: []VolumeClaim{{ClaimName: "home"}}}
	withLevel := func(in PodInputs, level string) PodInputs { in.PodSecurity = level; return in }
	cases := map[string]struct {
		wl             *doradev1.Workload
		in             PodInputs
		wantContainer  *corev1.SecurityContext
		wantViolations []string
	}{
		"the smallest workload":                    {wl: makeWorkload().Obj(), wantContainer: baseline},
		"GPUs, shared memory, a volume and a port": {wl: everything, in: home, wantContainer: baseline},
		"a baseline workspace":                     {wl: everything, in: withLevel(home, "baseline"), wantContainer: baseline},
		"a privileged workspace gets the same":     {wl: everything, in: withLevel(home, "privileged"), wantContainer: baseline},
		"a restricted workspace: non-root, no capabilities": {
			wl: everything, in: withLevel(home, "restricted"), wantContainer: restricted,
		},
		"the host network is outside baseline": {
			wl: makeWorkload().NetworkMode("host").Obj(), in: PodInputs{PodSecurity: "privileged"},
			wantContainer: baseline, wantViolations: []string{"host namespaces"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			pod := mustBuildPod(t, tc.wl, 0, tc.in)
			if diff := cmp.Diff(runtimeDefault, pod.Spec.SecurityContext); diff != "" {
				t.Errorf("pod security context (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantContainer, pod.Spec.Containers[0].SecurityContext); diff != "" {
				t.Errorf("container security context (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantViolations, baselineViolations(pod)); diff != "" {
				t.Errorf("baseline violations (-want +got):\n%s", diff)
			}
		})
	}
}
