package transfer

import (
	"crypto/rand"
	"regexp"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/naming"
)

// Labels and annotations of helper Workloads, to find them and clean them up.
const (
	// LabelHelper marks a Workload the plugin made for itself; the value says what for.
	LabelHelper = "dora.dev/helper"
	// HelperVolumeData is LabelHelper's value on the Workloads that move volume data.
	HelperVolumeData = "volume-data"
	// LabelHelperVolume is the volume a helper mounts, as a label value
	// (naming.WorkloadLabelValue of its name).
	LabelHelperVolume = "dora.dev/helper-volume"
	// AnnotationHelperVolume is the volume a helper mounts, as <workspace>/<name>, exactly.
	AnnotationHelperVolume = "dora.dev/helper-volume"
	// LabelManagedBy is the well-known label saying which tool manages an object.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedBy is the plugin, LabelManagedBy's value.
	ManagedBy = "kubectl-dora"
)

// Helper defaults.
const (
	// DefaultImage has everything the remote commands need (sh, tar, find, stat, mv, rm,
	// xargs, sha256sum, sleep) and no entrypoint, so config.cmd is the command.
	DefaultImage = "busybox:1.36"
	// DefaultMountPath is where the helper mounts the volume.
	DefaultMountPath = "/data"
	// DefaultMaxRunTime stops a helper that the plugin did not delete (it was killed, the
	// network went away).
	DefaultMaxRunTime = "1h"
	// DefaultCPU is the helper's CPU: tar over exec needs little.
	DefaultCPU = "500m"
)

// HelperSelector selects every volume-data helper, for kubectl get -l or a cleanup.
const HelperSelector = LabelHelper + "=" + HelperVolumeData

// HelperSpec describes a helper Workload. Only Volume and Workspace are required.
type HelperSpec struct {
	// Volume is the Dora Volume's name.
	Volume string
	// Workspace is the workspace the helper runs in (its namespace is
	// naming.WorkspaceNamespace of it).
	Workspace string
	// VolumeWorkspace is the workspace that owns the volume when it is not Workspace (a
	// shared dataset); empty for Workspace's own.
	VolumeWorkspace string
	// MountPath is where the volume appears in the container; DefaultMountPath when empty.
	MountPath string
	// ReadOnly mounts the volume read-only (ls and download).
	ReadOnly bool
	// Image is the container image; DefaultImage when empty. It must have no entrypoint.
	Image string
	// Suffix ends the Workload's name; a random one of 5 characters when empty.
	Suffix string
	// MaxRunTime is config.maxRunTime; DefaultMaxRunTime when empty.
	MaxRunTime string
	// CPU is selectors.cpu.count; DefaultCPU when empty.
	CPU string
}

// HelperWorkload is the short-lived Workload through which the plugin reaches a volume of
// workspace, run in that workspace: NewHelper with the volume, the workspace, the mount path,
// read-only or not, the image and the name's suffix (each defaulted when empty; the suffix
// random), MaxRunTime and CPU defaulted. Its replica 0 pod is the one to exec into.
func HelperWorkload(volume, workspace string, mountPath string, readOnly bool, image string, suffix string) *doradev1.Workload {
	return NewHelper(HelperSpec{
		Volume: volume, Workspace: workspace, MountPath: mountPath, ReadOnly: readOnly,
		Image: image, Suffix: suffix,
	})
}

// maxRunTimeSyntax is config.maxRunTime's grammar.
var maxRunTimeSyntax = regexp.MustCompile(`^([1-9][0-9]*)([smhd])$`)

// NewHelper builds a helper Workload: one CPU-only replica, no GPU, that mounts the volume
// and sleeps until the plugin deletes it or maxRunTime stops it (sleep lasts as long, so it
// ends either way). Its name is helper-<volume>-<suffix> as a DNS label, the same for the
// same volume and suffix, so that a rerun with the suffix finds it again.
func NewHelper(spec HelperSpec) *doradev1.Workload {
	mount := orDefault(spec.MountPath, DefaultMountPath)
	image := orDefault(spec.Image, DefaultImage)
	maxRun := orDefault(spec.MaxRunTime, DefaultMaxRunTime)
	cpu := orDefault(spec.CPU, DefaultCPU)
	suffix := spec.Suffix
	if suffix == "" {
		suffix = randomSuffix()
	}
	suffix = naming.DNSLabel(suffix, 16)
	volumeWorkspace := spec.VolumeWorkspace
	if volumeWorkspace == spec.Workspace {
		volumeWorkspace = ""
	}
	owner := spec.Workspace
	if volumeWorkspace != "" {
		owner = volumeWorkspace
	}
	// The pod is <name>-0 and its hostname <name>-0 cut to 63 characters: keep the name a
	// label, so neither has to be shortened.
	name := naming.DNSLabel("helper-"+spec.Volume, 63-len(suffix)-1) + "-" + suffix
	return &doradev1.Workload{
		TypeMeta: metav1.TypeMeta{APIVersion: doradev1.GroupVersion.String(), Kind: "Workload"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      name,
			Namespace: naming.WorkspaceNamespace(spec.Workspace),
			Labels: map[string]string{
				LabelHelper:       HelperVolumeData,
				LabelHelperVolume: naming.WorkloadLabelValue(spec.Volume),
				LabelManagedBy:    ManagedBy,
			},
			Annotations: map[string]string{AnnotationHelperVolume: owner + "/" + spec.Volume},
		},
		Spec: doradev1.WorkloadSpec{
			Selectors: doradev1.Selectors{
				CPU: &doradev1.CPUSelector{
					ProductName: doradev1.NewString(doradev1.All),
					Count:       new(intstr.FromString(cpu)),
				},
			},
			Image: doradev1.ImageSpec{Image: image},
			Config: &doradev1.ContainerConfig{
				Cmd:           doradev1.NewList("sleep", strconv.FormatInt(maxRunSeconds(maxRun), 10)),
				RestartPolicy: doradev1.RestartNever,
				MaxRunTime:    maxRun,
			},
			Volumes: []doradev1.WorkloadVolume{{
				Name: spec.Volume, Target: mount, Workspace: volumeWorkspace, ReadOnly: spec.ReadOnly,
			}},
		},
	}
}

// maxRunSeconds is a maxRunTime in seconds, an hour when it does not parse (the API server
// refuses such a Workload anyway).
func maxRunSeconds(s string) int64 {
	m := maxRunTimeSyntax.FindStringSubmatch(s)
	if m == nil {
		return 3600
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || n > 1<<40 {
		return 3600
	}
	unit := map[string]int64{"s": 1, "m": 60, "h": 3600, "d": 86400}[m[2]]
	return n * unit
}

// randomSuffix is 5 characters of [a-z0-9], as generateName gives.
func randomSuffix() string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	b := make([]byte, 5)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
