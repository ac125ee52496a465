package plugin

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/cli/transfer"
)

// The fake containers have no volumes: kwok runs every exec command on this machine (kwok_test.go).
// The helper's mount path is therefore a directory of this machine, under kwok's exec work
// directory, standing in for the NFS mount of volume home: what the plugin moves through
// exec and tar really lands there.

// volumeMount is the directory standing in for volume home's mount, made empty for a test.
func volumeMount(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join(filepath.Dir(work.currentLog), "exec", "volumes", name)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// volumeAs runs kubectl dora volume as user, with the helper's mount at mount.
func volumeAs(t *testing.T, user, mount string, args ...string) result {
	t.Helper()
	full := append([]string{"dora", "--as", user, "volume"}, args...)
	full = append(full, "--mount-path", mount)
	return runKubectl(t, runOptions{timeout: 3 * time.Minute}, full...)
}

func volumeOKAs(t *testing.T, user, mount string, args ...string) string {
	t.Helper()
	r := volumeAs(t, user, mount, args...)
	if r.code != 0 {
		t.Fatalf("kubectl dora volume %s failed:\n%s", strings.Join(args, " "), r)
	}
	return r.stdout
}

// helpers are the volume-data helper workloads of amedeo.setti in dc-rov-01, by name.
func helpers(t *testing.T) map[string]*doradev1.Workload {
	t.Helper()
	list := &doradev1.WorkloadList{}
	if err := admin(zoneRov).List(context.Background(), list, client.InNamespace("amedeo-setti"), client.MatchingLabels{transfer.LabelHelper: transfer.HelperVolumeData}); err != nil {
		t.Fatal(err)
	}
	out := map[string]*doradev1.Workload{}
	for i := range list.Items {
		out[list.Items[i].Name] = &list.Items[i]
	}
	return out
}

// noHelpersLeft waits until every helper workload is gone.
func noHelpersLeft(t *testing.T) {
	t.Helper()
	eventually(t, time.Minute, "the helper workloads are deleted", func() (bool, string) {
		h := helpers(t)
		return len(h) == 0, fmt.Sprint(h)
	})
}

// checksums are the SHA-256 of every file under dir, by path relative to it.
func checksums(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		sum := sha256.Sum256(data)
		out[filepath.ToSlash(rel)] = hex.EncodeToString(sum[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// project is a local directory of a few files, one of them left out by its .gitignore.
func project(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "project")
	big := make([]byte, 300<<10)
	_, _ = rand.Read(big)
	writeFile(t, filepath.Join(dir, "train.py"), []byte("print('training')\n"))
	writeFile(t, filepath.Join(dir, "weights.bin"), big)
	writeFile(t, filepath.Join(dir, "data", "labels.csv"), []byte("id,label\n1,cat\n2,dog\n"))
	writeFile(t, filepath.Join(dir, ".gitignore"), []byte("*.log\n"))
	writeFile(t, filepath.Join(dir, "debug.log"), []byte("noise\n"))
	return dir
}

func TestVolumeUploadLsDownloadAndSyncMoveRealBytes(t *testing.T) {
	seed(t)
	const user = "amedeo.setti"
	mount := volumeMount(t, "home")
	local := project(t)
	want := checksums(t, local)

	// upload: the directory lands whole under the volume's top.
	out := volumeOKAs(t, user, mount, "upload", "home", local)
	mustContain(t, out, "uploaded "+local+" to volume home:/project: 5 files, 2 directories")
	if got := checksums(t, filepath.Join(mount, "project")); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the volume holds:\n%v\nwant:\n%v", got, want)
	}
	noHelpersLeft(t)

	// ls: the volume's top, then the directory.
	if out := volumeOKAs(t, user, mount, "ls", "home"); !strings.HasPrefix(out, "MODE") || !strings.Contains(out, " project/\n") {
		t.Errorf("ls home:\n%s", out)
	}
	out = volumeOKAs(t, user, mount, "ls", "home", "/project", "--no-headers")
	var listed []string
	for _, f := range fields(out) {
		listed = append(listed, f[len(f)-1])
	}
	if strings.Join(listed, " ") != ".gitignore data/ debug.log train.py weights.bin" || !strings.Contains(out, " 307200 ") {
		t.Errorf("ls home /project:\n%s", out)
	}
	var entries []transfer.Entry
	if err := json.Unmarshal([]byte(volumeOKAs(t, user, mount, "ls", "home", "project/data", "-o", "json")), &entries); err != nil || len(entries) != 1 || entries[0].Name != "labels.csv" || entries[0].Size != 21 {
		t.Errorf("ls -o json: %+v, %v", entries, err)
	}
	r := volumeAs(t, user, mount, "ls", "home", "/nothing/here")
	if r.code == 0 || !strings.Contains(r.stderr, "volume home (workspace amedeo.setti, zone dc-rov-01) has no file or directory /nothing/here") {
		t.Errorf("ls of a missing path:\n%s", r)
	}

	// download: into another directory, the same bytes.
	dl := t.TempDir()
	out = volumeOKAs(t, user, mount, "download", "home", "/project", dl)
	mustContain(t, out, "downloaded volume home:/project to "+filepath.Join(dl, "project")+": 5 files")
	if got := checksums(t, filepath.Join(dl, "project")); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("downloaded:\n%v\nwant:\n%v", got, want)
	}

	// sync: after one file changed only that one is sent; the ignored log never is.
	writeFile(t, filepath.Join(local, "train.py"), []byte("print('training harder')\n"))
	writeFile(t, filepath.Join(local, "debug.log"), []byte("more noise\n"))
	var stats transfer.Stats
	if err := json.Unmarshal([]byte(volumeOKAs(t, user, mount, "sync", "home", local, "--dry-run", "-o", "json")), &stats); err != nil {
		t.Fatal(err)
	}
	if strings.Join(stats.Sent, ",") != "train.py" {
		t.Errorf("sync --dry-run would send %v", stats.Sent)
	}
	if data, _ := os.ReadFile(filepath.Join(mount, "project", "train.py")); string(data) != "print('training')\n" {
		t.Errorf("a dry run changed the volume: %q", data)
	}
	out = volumeOKAs(t, user, mount, "sync", "home", local)
	if lines := lines(out); len(lines) != 2 || lines[0] != "sent train.py" ||
		!strings.HasPrefix(lines[1], "synced "+local+" to volume home:/project: 1 file, 0 directories, 25 B, 3 unchanged, 1 ignored in ") {
		t.Errorf("sync after one change:\n%s", out)
	}
	if data, _ := os.ReadFile(filepath.Join(mount, "project", "train.py")); string(data) != "print('training harder')\n" {
		t.Errorf("the synced file: %q", data)
	}
	if data, _ := os.ReadFile(filepath.Join(mount, "project", "debug.log")); string(data) != "noise\n" {
		t.Errorf("sync sent an ignored file: %q", data)
	}
	// Nothing changed: nothing is sent; --delete removes what is gone locally.
	if err := os.Remove(filepath.Join(local, "data", "labels.csv")); err != nil {
		t.Fatal(err)
	}
	out = volumeOKAs(t, user, mount, "sync", "home", local, "/project", "--delete")
	if lines := lines(out); len(lines) != 2 || lines[0] != "deleted data/labels.csv" || !strings.Contains(lines[1], "0 files, 0 directories, 0 B, 3 unchanged, 1 ignored, 1 deleted") {
		t.Errorf("sync --delete:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(mount, "project", "data", "labels.csv")); !os.IsNotExist(err) {
		t.Errorf("sync --delete left labels.csv: %v", err)
	}
	noHelpersLeft(t)
}

func TestVolumeWithoutTheDoraVerbIsRefusedBeforeAnyHelperIsMade(t *testing.T) {
	seed(t)
	// guest.volumes may run workloads and shells in amedeo.setti and read its volumes, but
	// not list, upload, download or sync their files.
	setup := `apiVersion: v1
kind: Role
metadata:
  name: volume.reader
spec:
  permission:
    Workload: [Apply, Delete, Get]
    Container: [Get, Shell]
    Volume: [Get, Describe]
---
apiVersion: v1
kind: User
metadata:
  name: guest.volumes
spec:
  default: {workspace: amedeo.setti, zone: dc-rov-01}
  resources:
    - {kind: All, zone: All, workspace: amedeo.setti, role: volume.reader}
`
	if r := doraIn(t, setup, "apply", "-f", "-"); r.code != 0 {
		t.Fatal(r)
	}
	eventuallyDora(t, "", "--as", "guest.volumes", "get", "vol", "home")
	mount := volumeMount(t, "refused")
	local := project(t)
	for _, tc := range []struct{ verb, dora string }{{"ls", "Ls"}, {"upload", "Upload"}, {"download", "Download"}, {"sync", "Sync"}} {
		args := map[string][]string{"ls": {"ls", "home"}, "upload": {"upload", "home", local}, "download": {"download", "home", "/project", t.TempDir()}, "sync": {"sync", "home", local}}[tc.verb]
		r := volumeAs(t, "guest.volumes", mount, args...)
		if r.code == 0 {
			t.Fatalf("volume %s without the verb %s:\n%s", tc.verb, tc.dora, r)
		}
		mustContain(t, r.stderr, "refused: guest.volumes may not "+tc.verb+" volume home of workspace amedeo.setti (zone dc-rov-01): that takes the Dora verb "+tc.dora+" on the volume",
			"nothing was started")
	}
	for name, h := range helpers(t) {
		if h.Annotations[doradev1.AnnotationOwner] == "guest.volumes" {
			t.Errorf("a helper was made for the refused user: %s", name)
		}
	}
	if entries, _ := os.ReadDir(mount); len(entries) != 0 {
		t.Errorf("the refused upload wrote %v", entries)
	}
	// A volume that does not exist is named, with the nearest one.
	r := volumeAs(t, "amedeo.setti", mount, "ls", "hom")
	mustContain(t, r.stderr, `volume "hom" not found in workspace amedeo.setti (zone dc-rov-01); did you mean "home"?`)
}

func TestVolumeHelperIsDeletedWhenItDoesNotStartInTimeOrTheCommandIsInterrupted(t *testing.T) {
	seed(t)
	mount := volumeMount(t, "home")
	r := volumeAs(t, "amedeo.setti", mount, "ls", "home", "--timeout", "1ms")
	if r.code == 0 {
		t.Fatalf("a helper started within 1ms:\n%s", r)
	}
	mustContain(t, r.stderr, "did not start within", "(--timeout waits longer; the helper is deleted)")
	noHelpersLeft(t)

	// Ctrl-C while the upload of a large file runs: the command stops and deletes its helper.
	big := filepath.Join(t.TempDir(), "big.bin")
	writeFile(t, big, bytes.Repeat([]byte("0123456789abcdef"), 4<<20))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, kubectlPath, "dora", "--as", "amedeo.setti", "volume", "upload", "home", big, "/interrupted", "--mount-path", mount, "--progress")
	cmd.Env = kubectlEnv(nil)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, "the upload's helper runs", func() (bool, string) {
		for _, h := range helpers(t) {
			if h.Status.Phase == doradev1.WorkloadPhaseRunning {
				return true, ""
			}
		}
		return false, fmt.Sprint(helpers(t))
	})
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	t.Logf("interrupted upload: %v\n%s", err, stderr.String())
	noHelpersLeft(t)
	// Nothing half-written is in place: the file is there whole, or not at all.
	if data, err := os.ReadFile(filepath.Join(mount, "interrupted", "big.bin")); err == nil && len(data) != 64<<20 {
		t.Errorf("a partial file is in place: %d bytes", len(data))
	}
	var names []string
	_ = filepath.WalkDir(mount, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, p)
		}
		return nil
	})
	sort.Strings(names)
	t.Logf("in the volume after the interruption: %v", names)
}
