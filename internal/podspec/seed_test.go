package podspec

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/doradoc"
)

// decodeSeed reads one of the seed's Workload examples, as Dora users write them, through the
// Dora document translator.
func decodeSeed(t *testing.T, name string) *doradev1.Workload {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "doradoc", "testdata", "seed", name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	docs, err := doradoc.Decode(data, doradoc.Defaults{Zone: "dc-rov-01", Workspace: "amedeo.setti"})
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	wl, ok := docs[0].Object.(*doradev1.Workload)
	if !ok {
		t.Fatalf("decoded a %T, want a Workload", docs[0].Object)
	}
	return wl
}

// The seed's full example: two replicas, each with two GPUs of either model, spread over
// nodes, restarted always, 1 GB of /dev/shm, two volumes (one a shared dataset) and port 8008
// open at 25000 + replica.
func TestSeedFullWorkload(t *testing.T) {
	wl := decodeSeed(t, "workload-full")
	if got := wl.ReplicaCount(); got != 2 {
		t.Fatalf("replica count = %d, want 2", got)
	}
	inputs := PodInputs{Claims: []VolumeClaim{
		{ClaimName: "home"},
		{ClaimName: "shared.datasets.imagenetpytorch.1a2b3c4d", ReadOnly: true},
	}}
	rev := TemplateHash(wl)
	wantPod := func(index string) *corev1.Pod {
		return &corev1.Pod{
			TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
			ObjectMeta: metav1.ObjectMeta{
				Name:        "blue.red-" + index,
				Namespace:   "amedeo-setti",
				Labels:      map[string]string{LabelWorkload: "blue.red", LabelReplica: index, LabelRevision: rev},
				Annotations: map[string]string{AnnotationWorkload: "blue.red"},
				// GPU pods are kept until the credit controller has counted them.
				Finalizers: []string{doradev1.FinalizerCredits},
			},
			Spec: corev1.PodSpec{
				Hostname: "blue-red-" + index,
				Containers: []corev1.Container{{
					Name:            ContainerName,
					Image:           "ubuntu",
					ImagePullPolicy: corev1.PullAlways,
					Args:            []string{"/bin/bash"},
					Ports:           []corev1.ContainerPort{{Name: "first", ContainerPort: 8008, Protocol: corev1.ProtocolTCP}},
					Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{
						"nvidia.com/gpu": resource.MustParse("2"),
					}},
					SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false)},
					VolumeMounts: []corev1.VolumeMount{
						{Name: "dshm", MountPath: "/dev/shm"},
						{Name: "vol-0", MountPath: "/home"},
						{Name: "vol-1", MountPath: "/imagenet", ReadOnly: true},
					},
				}},
				Volumes: []corev1.Volume{
					{Name: "dshm", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{
						Medium: corev1.StorageMediumMemory, SizeLimit: ptr.To(resource.MustParse("1000000000")),
					}}},
					{Name: "vol-0", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{
						ClaimName: "home",
					}}},
					{Name: "vol-1", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{
						ClaimName: "shared.datasets.imagenetpytorch.1a2b3c4d", ReadOnly: true,
					}}},
				},
				RestartPolicy: corev1.RestartPolicyAlways,
				Affinity: &corev1.Affinity{
					NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
						NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{
							{Key: "workload.dora.dev/gpu", Operator: corev1.NodeSelectorOpNotIn, Values: []string{"false"}},
							{Key: "nvidia.com/gpu.product", Operator: corev1.NodeSelectorOpIn, Values: []string{"Quadro-RTX-6000", "Tesla-V100-SXM2-16GB"}},
						}}},
					}},
					PodAntiAffinity: &corev1.PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
						Weight: 100,
						PodAffinityTerm: corev1.PodAffinityTerm{
							LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{LabelWorkload: "blue.red"}},
							TopologyKey:   "kubernetes.io/hostname",
						},
					}}},
				},
				EnableServiceLinks:           ptr.To(false),
				AutomountServiceAccountToken: ptr.To(false),
				SecurityContext:              &corev1.PodSecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
			},
		}
	}
	wantService := func(index string, nodePort int32) []*corev1.Service {
		return []*corev1.Service{{
			TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
			ObjectMeta: metav1.ObjectMeta{
				Name:        "blue-red-" + index + "-first",
				Namespace:   "amedeo-setti",
				Labels:      map[string]string{LabelWorkload: "blue.red", LabelReplica: index, LabelRevision: rev},
				Annotations: map[string]string{AnnotationWorkload: "blue.red"},
			},
			Spec: corev1.ServiceSpec{
				Type:     corev1.ServiceTypeNodePort,
				Selector: map[string]string{LabelWorkload: "blue.red", LabelReplica: index},
				Ports: []corev1.ServicePort{{
					Name: "first", Protocol: corev1.ProtocolTCP, Port: 8008, TargetPort: intstr.FromInt32(8008), NodePort: nodePort,
				}},
			},
		}}
	}
	cases := map[string]struct {
		index        int32
		wantPod      *corev1.Pod
		wantServices []*corev1.Service
	}{
		"replica 0 listens at node port 25000": {index: 0, wantPod: wantPod("0"), wantServices: wantService("0", 25000)},
		"replica 1 listens at node port 25001": {index: 1, wantPod: wantPod("1"), wantServices: wantService("1", 25001)},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			pod, err := BuildPod(wl, tc.index, inputs)
			if err != nil {
				t.Fatalf("BuildPod: %v", err)
			}
			if diff := cmp.Diff(tc.wantPod, pod); diff != "" {
				t.Errorf("pod (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantServices, BuildServices(wl, tc.index)); diff != "" {
				t.Errorf("services (-want +got):\n%s", diff)
			}
		})
	}
}

// The seed's simple example: one replica of ubuntu running /bin/bash on one core of any CPU,
// on a node that takes CPU workloads.
func TestSeedSimpleWorkload(t *testing.T) {
	wl := decodeSeed(t, "workload-simple")
	if got := wl.ReplicaCount(); got != 1 {
		t.Fatalf("replica count = %d, want 1", got)
	}
	want := &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        "blue.red-0",
			Namespace:   "amedeo-setti",
			Labels:      map[string]string{LabelWorkload: "blue.red", LabelReplica: "0", LabelRevision: TemplateHash(wl)},
			Annotations: map[string]string{AnnotationWorkload: "blue.red"},
		},
		Spec: corev1.PodSpec{
			Hostname: "blue-red-0",
			Containers: []corev1.Container{{
				Name:            ContainerName,
				Image:           "ubuntu",
				ImagePullPolicy: corev1.PullIfNotPresent,
				Args:            []string{"/bin/bash"},
				Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")},
					Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")},
				},
				SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false)},
			}},
			RestartPolicy: corev1.RestartPolicyNever,
			Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
				NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{
					{Key: "workload.dora.dev/cpu", Operator: corev1.NodeSelectorOpNotIn, Values: []string{"false"}},
				}}},
			}}},
			EnableServiceLinks:           ptr.To(false),
			AutomountServiceAccountToken: ptr.To(false),
			SecurityContext:              &corev1.PodSecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
		},
	}
	pod, err := BuildPod(wl, 0, PodInputs{})
	if err != nil {
		t.Fatalf("BuildPod: %v", err)
	}
	if diff := cmp.Diff(want, pod); diff != "" {
		t.Errorf("pod (-want +got):\n%s", diff)
	}
	if svcs := BuildServices(wl, 0); len(svcs) != 0 {
		t.Errorf("BuildServices = %d services, want none: the workload opens no port", len(svcs))
	}
}
