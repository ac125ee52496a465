package nfs

import (
	"fmt"
	"maps"
	"path"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/gpu"
	"github.com/dora-hpc/dora-operator/internal/naming"
)

// DefaultHelperImage runs the Jobs that create, copy and remove directories: it needs a
// shell, mkdir, chmod, cp and rm.
const DefaultHelperImage = "busybox:1.37"

// Labels and annotations of helper Jobs. A helper Job mounts an export's root, so it runs
// in the manager's own namespace, where no tenant can reach its pod; a Job there cannot be
// owned by the namespaced Volume it works for, so it says what it is in its labels and in
// the annotation doradev1.AnnotationSourceVolume (<namespace>/<name> of that Volume).
// Only the manager creates Jobs in its namespace, so those are to be trusted there only.
const (
	// LabelJob marks a helper Job with what it does: mkdir, rmdir or copy.
	LabelJob = "storage.dora.dev/job"
	// LabelVolumeNamespace names the namespace of the Volume a helper Job works for.
	LabelVolumeNamespace = "storage.dora.dev/volume-namespace"
	// LabelVolumeUID is the UID of that Volume: a Job left by an earlier Volume of the same
	// name is told apart, as an owner reference would tell it.
	LabelVolumeUID = "storage.dora.dev/volume-uid"
	// LabelManagedBy, set to ManagedBy, marks the Jobs the manager made.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedBy is the value of LabelManagedBy on the manager's Jobs.
	ManagedBy = "dora-operator"
)

// Helper Job kinds.
const (
	JobMkdir = "mkdir"
	JobRmdir = "rmdir"
	JobCopy  = "copy"
)

// Where the helper pod mounts exports.
const (
	exportMount = "/export"
	fromMount   = "/from"
	toMount     = "/to"
)

// JobInputs name a helper Job.
type JobInputs struct {
	// Namespace is where the Job runs: the manager's own namespace, never a tenant's.
	Namespace string
	// Volume is the Volume the Job works for (for a copy: the copy). With its namespace it
	// names the Job; the Job's labels and annotation record it.
	Volume types.NamespacedName
	// VolumeUID is that Volume's UID, recorded in the label LabelVolumeUID.
	VolumeUID types.UID
	// Image is the helper image (DefaultHelperImage when empty).
	Image string
}

// JobName is the helper Job of kind for the Volume namespace/volume:
// <kind>-<namespace>-<volume as a DNS label>-<hash of namespace/volume>, short enough for
// the job-name label of its pods, and distinct across namespaces (the Jobs of every
// workspace share the manager's namespace) and for blue.red and blue-red.
func JobName(kind, namespace, volume string) string {
	key := SourceKey(types.NamespacedName{Namespace: namespace, Name: volume})
	return naming.DNSLabel(kind+"-"+namespace+"-"+volume, 54) + "-" + naming.ShortHash(key)
}

// JobTarget is what a helper Job made by the manager says of itself: what it does, and for
// which Volume.
type JobTarget struct {
	// Kind is JobMkdir, JobRmdir or JobCopy.
	Kind string
	// Volume is the Volume the Job works for.
	Volume types.NamespacedName
	// UID is that Volume's UID.
	UID types.UID
}

// TargetOf reads a helper Job's target from its labels and annotation; false for a Job the
// manager did not mark as its own helper. The caller trusts it only for a Job in the
// manager's namespace, where tenants create nothing.
func TargetOf(job metav1.Object) (JobTarget, bool) {
	labels := job.GetLabels()
	if labels[LabelManagedBy] != ManagedBy || labels[LabelJob] == "" {
		return JobTarget{}, false
	}
	vol, ok := ParseSourceKey(job.GetAnnotations()[doradev1.AnnotationSourceVolume])
	if !ok || labels[LabelVolumeNamespace] != vol.Namespace {
		return JobTarget{}, false
	}
	return JobTarget{Kind: labels[LabelJob], Volume: vol, UID: types.UID(labels[LabelVolumeUID])}, true
}

// MkdirJob creates dir (and its parents) on the export, writable by everyone as NFS
// provisioners do, since workloads run as whatever user their image says. It mounts the
// export root, so it works before the directory exists; a directory that exists is left as
// it is, so running it again changes nothing.
func MkdirJob(in JobInputs, dir Directory) (*batchv1.Job, error) {
	if err := checkRel(dir); err != nil {
		return nil, err
	}
	// Only a directory it makes is opened to everyone: one that exists keeps its modes.
	script := `[ -d "$DIR" ] || { mkdir -p "$DIR" && chmod 0777 "$DIR"; }`
	return helperJob(in, JobMkdir, script,
		[]corev1.EnvVar{{Name: "DIR", Value: path.Join(exportMount, dir.Rel)}},
		[]nfsMount{{name: "export", dir: dir, at: exportMount}}), nil
}

// RmdirJob removes dir and everything in it from the export.
func RmdirJob(in JobInputs, dir Directory) (*batchv1.Job, error) {
	if err := checkRel(dir); err != nil {
		return nil, err
	}
	script := `rm -rf -- "$DIR"`
	return helperJob(in, JobRmdir, script,
		[]corev1.EnvVar{{Name: "DIR", Value: path.Join(exportMount, dir.Rel)}},
		[]nfsMount{{name: "export", dir: dir, at: exportMount}}), nil
}

// CopyJob copies everything in from into to, keeping modes, owners and times, for a
// workspace clone. The two may be on different servers. Running it again copies again.
func CopyJob(in JobInputs, from, to Directory) (*batchv1.Job, error) {
	if err := checkRel(from); err != nil {
		return nil, err
	}
	if err := checkRel(to); err != nil {
		return nil, err
	}
	script := `cp -a -- "$FROM/." "$TO/"`
	return helperJob(in, JobCopy, script,
		[]corev1.EnvVar{
			{Name: "FROM", Value: path.Join(fromMount, from.Rel)},
			{Name: "TO", Value: path.Join(toMount, to.Rel)},
		},
		[]nfsMount{{name: "from", dir: from, at: fromMount, readOnly: true}, {name: "to", dir: to, at: toMount}}), nil
}

// checkRel refuses a directory that is the export root itself: no helper ever works on the
// whole export.
func checkRel(dir Directory) error {
	if rel := path.Clean(dir.Rel); rel == "." || rel == "/" || path.IsAbs(rel) || rel == ".." || len(rel) > 2 && rel[:3] == "../" {
		return fmt.Errorf("directory %q is not below the export %s", dir.Rel, dir.Export)
	}
	if dir.Server == "" || dir.Export == "" {
		return fmt.Errorf("directory %q has no NFS server or export", dir.Rel)
	}
	return nil
}

type nfsMount struct {
	name     string
	dir      Directory
	at       string
	readOnly bool
}

// helperJob is a one-container Job running script in the helper image, with the exports of
// mounts mounted whole. It fails at once when the script does, tries three times when the
// pod itself fails, gives up after ten minutes; its labels let the manager cache it and,
// with its annotation, say which Volume it works for (see TargetOf).
func helperJob(in JobInputs, kind, script string, env []corev1.EnvVar, mounts []nfsMount) *batchv1.Job {
	image := in.Image
	if image == "" {
		image = DefaultHelperImage
	}
	labels := map[string]string{
		doradev1.LabelVolume: naming.WorkloadLabelValue(in.Volume.Name),
		LabelJob:             kind,
		LabelVolumeNamespace: in.Volume.Namespace,
		LabelManagedBy:       ManagedBy,
	}
	if in.VolumeUID != "" {
		labels[LabelVolumeUID] = string(in.VolumeUID)
	}
	var vols []corev1.Volume
	var vmounts []corev1.VolumeMount
	for _, m := range mounts {
		vols = append(vols, corev1.Volume{Name: m.name, VolumeSource: corev1.VolumeSource{
			NFS: &corev1.NFSVolumeSource{Server: m.dir.Server, Path: m.dir.Export, ReadOnly: m.readOnly},
		}})
		vmounts = append(vmounts, corev1.VolumeMount{Name: m.name, MountPath: m.at, ReadOnly: m.readOnly})
	}
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:   in.Namespace,
			Name:        JobName(kind, in.Volume.Namespace, in.Volume.Name),
			Labels:      labels,
			Annotations: map[string]string{doradev1.AnnotationSourceVolume: SourceKey(in.Volume)},
		},
		Spec: batchv1.JobSpec{
			BackoffLimit:          ptr.To[int32](2),
			ActiveDeadlineSeconds: ptr.To[int64](600),
			// The commands fail with exit code 1 for reasons a retry does not change (the
			// export refuses root, the disk is full): the Job fails at once and says so. A
			// pod the cluster took away (eviction, a drained node) is tried again.
			PodFailurePolicy: &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{
				{
					Action:      batchv1.PodFailurePolicyActionFailJob,
					OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: []int32{1}},
				},
				{
					Action:          batchv1.PodFailurePolicyActionIgnore,
					OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}},
				},
			}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: maps.Clone(labels)},
				Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyNever,
					// Helpers keep off GPU nodes when they can: GPUs are for workloads.
					Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
						PreferredDuringSchedulingIgnoredDuringExecution: []corev1.PreferredSchedulingTerm{{
							Weight: 100,
							Preference: corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{{
								Key: gpu.LabelProduct, Operator: corev1.NodeSelectorOpDoesNotExist,
							}}},
						}},
					}},
					AutomountServiceAccountToken: ptr.To(false),
					EnableServiceLinks:           ptr.To(false),
					Containers: []corev1.Container{{
						Name:         kind,
						Image:        image,
						Command:      []string{"sh", "-c", script},
						Env:          env,
						VolumeMounts: vmounts,
						Resources: corev1.ResourceRequirements{
							Requests: corev1.ResourceList{
								corev1.ResourceCPU:    resource.MustParse("10m"),
								corev1.ResourceMemory: resource.MustParse("16Mi"),
							},
							Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
						},
						SecurityContext: &corev1.SecurityContext{
							AllowPrivilegeEscalation: ptr.To(false),
						},
						TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
					}},
					Volumes: vols,
				},
			},
		},
	}
}

// JobOutcome is what a helper Job came to.
type JobOutcome int

const (
	// JobRunning: neither complete nor failed yet.
	JobRunning JobOutcome = iota
	// JobSucceeded: it did its work.
	JobSucceeded
	// JobFailed: it gave up; the message says why.
	JobFailed
)

// Outcome reads a Job's conditions: the outcome and, for a failure, the Job's own reason
// and message.
func Outcome(job *batchv1.Job) (JobOutcome, string) {
	for _, c := range job.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			return JobSucceeded, ""
		case batchv1.JobFailed:
			return JobFailed, fmt.Sprintf("Job %s failed (%s): %s; its pods' logs say more (kubectl logs -n %s job/%s)",
				job.Name, c.Reason, c.Message, job.Namespace, job.Name)
		}
	}
	return JobRunning, ""
}
