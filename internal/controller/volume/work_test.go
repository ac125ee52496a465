package volume

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/nfs"
)

var exportStorage = &doradev1.Storage{
	ObjectMeta: metav1.ObjectMeta{Name: "nfs"},
	Spec:       doradev1.StorageSpec{Endpoint: "10.0.0.1", Mountpath: "/export"},
}

func mkdirFor(t *testing.T, workspace, volume string) (nfs.Directory, *doradev1.Volume) {
	t.Helper()
	vol := &doradev1.Volume{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: volume}}
	dir, err := nfs.VolumeDirectory(exportStorage, workspace, vol)
	if err != nil {
		t.Fatal(err)
	}
	return dir, vol
}

// A helper Job counts as doing the work asked for when its command, variables and exports
// are those asked for, whatever a mutating webhook added beside them; a Job for another
// directory does not, and is replaced.
func TestSameWorkIgnoresWhatOthersAdd(t *testing.T) {
	dir, _ := mkdirFor(t, "team.a", "data")
	want, err := nfs.MkdirJob(nfs.JobInputs{Namespace: "ns", Volume: "data"}, dir)
	if err != nil {
		t.Fatal(err)
	}

	injected := want.DeepCopy()
	spec := &injected.Spec.Template.Spec
	spec.Containers[0].Env = append(spec.Containers[0].Env, corev1.EnvVar{Name: "HTTP_PROXY", Value: "proxy:3128"})
	spec.Containers = append(spec.Containers, corev1.Container{Name: "istio-proxy"})
	spec.Volumes = append(spec.Volumes, corev1.Volume{Name: "injected"})
	if !sameWork(injected, want) {
		t.Error("a Job with an injected sidecar, variable and volume should still count as the same work")
	}

	otherDir, _ := mkdirFor(t, "team-a", "data")
	other, err := nfs.MkdirJob(nfs.JobInputs{Namespace: "ns", Volume: "data"}, otherDir)
	if err != nil {
		t.Fatal(err)
	}
	if sameWork(other, want) {
		t.Error("a Job making another directory must not count as the same work")
	}

	otherServer := want.DeepCopy()
	otherServer.Spec.Template.Spec.Volumes[0].NFS.Server = "10.0.0.2"
	if sameWork(otherServer, want) {
		t.Error("a Job on another server must not count as the same work")
	}
}

// The directory a volume's status recorded is trusted only when its Storage holds it and it
// is that volume's.
func TestRecordedDirectoryMustBeTheVolumes(t *testing.T) {
	dir, vol := mkdirFor(t, "team.a", "data")
	vol.Status.Server, vol.Status.Path = dir.Server, dir.Path()
	if got, ok := recordedDirectory(exportStorage, vol); !ok || got.Path() != "/export/team.a/data" {
		t.Errorf("recordedDirectory = %s, %v; want /export/team.a/data", got.Path(), ok)
	}

	vol.Status.Path = "/export/team.a/other"
	if _, ok := recordedDirectory(exportStorage, vol); ok {
		t.Error("a recorded path that does not end in the volume's name must not be trusted")
	}
	vol.Status.Path = "/elsewhere/team.a/data"
	if _, ok := recordedDirectory(exportStorage, vol); ok {
		t.Error("a recorded path outside the Storage's export must not be trusted")
	}
	vol.Status.Server, vol.Status.Path = "10.9.9.9", dir.Path()
	if _, ok := recordedDirectory(exportStorage, vol); ok {
		t.Error("a recorded directory on another server must not be trusted")
	}
}
