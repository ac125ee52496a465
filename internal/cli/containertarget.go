package cli

import (
	"context"
	"fmt"
	"sort"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/naming"
)

// ContainerTarget is the containers a logs, shell or exec command acts on.
type ContainerTarget struct {
	S         *Session
	Workspace string
	// Workload is the workload named, or the workload of the container named.
	Workload string
	Pods     []corev1.Pod
}

// Where names the place in messages.
func (t *ContainerTarget) Where() string {
	return fmt.Sprintf("in workspace %s (zone %s)", t.Workspace, t.S.Zone.Name)
}

// workloadOrContainer is the kind of "not found" of a name that may be either.
var workloadOrContainer = Kind{Dora: "workload or container", Resource: schema.GroupVersionResource{Resource: "workloads or containers"}}

// FindContainers resolves name, a workload or one of its containers (a pod name such as
// blue.red-1), in the current zone and workspace. For a workload, replica picks one
// replica (-1: all of them, sorted by replica).
func FindContainers(ctx context.Context, env *Env, name string, replica int) (*ContainerTarget, error) {
	s, err := env.Current(ctx)
	if err != nil {
		return nil, err
	}
	ws, ns, err := s.Workspace(ctx)
	if err != nil {
		return nil, err
	}
	t := &ContainerTarget{S: s, Workspace: ws}
	wl := &doradev1.Workload{}
	err = s.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: ObjectName(name)}, wl)
	switch {
	case err == nil:
		t.Workload = wl.Name
		pods, err := s.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: doradev1.LabelWorkload + "=" + naming.WorkloadLabelValue(wl.Name)})
		if err != nil {
			return nil, s.Explain(err, "listing the containers of workload "+wl.Name)
		}
		for _, pod := range pods.Items {
			if WorkloadOfPod(&pod) != wl.Name {
				continue
			}
			if replica >= 0 && pod.Labels[doradev1.LabelReplica] != strconv.Itoa(replica) {
				continue
			}
			t.Pods = append(t.Pods, pod)
		}
		sort.Slice(t.Pods, func(i, j int) bool {
			a, _ := strconv.Atoi(t.Pods[i].Labels[doradev1.LabelReplica])
			b, _ := strconv.Atoi(t.Pods[j].Labels[doradev1.LabelReplica])
			return a < b
		})
		if len(t.Pods) == 0 {
			return nil, noContainers(wl, replica, t.Where())
		}
		return t, nil
	case !apierrors.IsNotFound(err):
		return nil, s.Explain(err, fmt.Sprintf("reading workload %s %s", name, t.Where()))
	}
	pod, err := s.Kube.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	if err == nil && pod.Labels[doradev1.LabelWorkload] != "" {
		t.Workload = WorkloadOfPod(pod)
		t.Pods = []corev1.Pod{*pod}
		return t, nil
	}
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, s.Explain(err, fmt.Sprintf("reading container %s %s", name, t.Where()))
	}
	wk, _ := LookupKind("workload")
	workloads, wErr := s.Names(ctx, wk, ns)
	containers, cErr := s.Names(ctx, KindContainer(), ns)
	return nil, NewNotFound(workloadOrContainer, name, t.Where(), append(workloads, containers...), wErr == nil && cErr == nil)
}

// noContainers says why a workload has no container to act on.
func noContainers(wl *doradev1.Workload, replica int, where string) error {
	switch {
	case wl.Spec.Paused:
		return fmt.Errorf("workload %s %s is paused: it has no containers (kubectl dora resume %s)", wl.Name, where, wl.Name)
	case replica >= int(wl.ReplicaCount()):
		return fmt.Errorf("workload %s %s has %d replica(s), 0 to %d: there is no replica %d", wl.Name, where, wl.ReplicaCount(), wl.ReplicaCount()-1, replica)
	case replica >= 0:
		return fmt.Errorf("workload %s %s has no container for replica %d yet (kubectl dora describe %s)", wl.Name, where, replica, wl.Name)
	}
	return fmt.Errorf("workload %s %s has no containers yet (kubectl dora describe %s says why)", wl.Name, where, wl.Name)
}

// One is the single container of a target, for shell and exec: replica 0 of a workload
// unless --replica says otherwise.
func (t *ContainerTarget) One() *corev1.Pod {
	return &t.Pods[0]
}
