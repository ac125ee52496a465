package transfer

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/naming"
)

func TestFormatProgress(t *testing.T) {
	cases := []struct {
		name        string
		done, total int64
		elapsed     time.Duration
		want        string
	}{
		{"start", 0, 100 << 20, 0, "upload x  0 B / 100.0 MiB [>                       ]   0%  0 B/s  ETA --"},
		{"halfway", 50 << 20, 100 << 20, 5 * time.Second, "upload x  50.0 MiB / 100.0 MiB [============>           ]  50%  10.0 MiB/s  ETA 5s"},
		{"slow", 1 << 20, 1 << 30, 10 * time.Second, "upload x  1.0 MiB / 1.0 GiB [>                       ]   0%  102.4 KiB/s  ETA 2h50m"},
		{"minutes", 10 << 20, 100 << 20, 10 * time.Second, "upload x  10.0 MiB / 100.0 MiB [==>                     ]  10%  1.0 MiB/s  ETA 1m30s"},
		{"done", 100 << 20, 100 << 20, 65 * time.Second, "upload x  100.0 MiB / 100.0 MiB [========================] 100%  1.5 MiB/s  in 1m05s"},
		{"no total", 3 << 10, 0, 2 * time.Second, "upload x  3.0 KiB  1.5 KiB/s"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := formatProgress("upload x", tc.done, tc.total, tc.elapsed); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestProgressRedrawsAtMostFiveTimesASecondAndEndsTheLine(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b, "sync", 1000)
	now := p.start
	p.now = func() time.Time { return now }
	for range 10 {
		now = now.Add(50 * time.Millisecond)
		p.add(100)
	}
	p.finish()
	p.finish()
	out := b.String()
	// At once, at 250ms and 450ms, and the final one.
	if n := strings.Count(out, "\r"); n != 4 {
		t.Errorf("drawn %d times in 500ms, want 4: %q", n, out)
	}
	if !strings.HasSuffix(out, "100%  2.0 KiB/s  in 1s\n") {
		t.Errorf("final line = %q", out)
	}
	var nilProgress *progress
	nilProgress.add(1)
	nilProgress.finish()
	if newProgress(nil, "x", 1) != nil {
		t.Error("no writer should mean no progress")
	}
}

func TestProgressBlanksWhatALongerLineLeft(t *testing.T) {
	var b bytes.Buffer
	p := &progress{w: &b, label: "x", now: time.Now}
	p.drawn = 100
	p.draw(p.now())
	if line := strings.TrimPrefix(b.String(), "\r"); len(line) != 100 {
		t.Errorf("a shorter line is %d characters long, want it padded to 100", len(line))
	}
}

func TestLinkStaysInside(t *testing.T) {
	cases := []struct {
		rel, target string
		want        bool
	}{
		{"top/l", "f", true},
		{"top/l", "./sub/f", true},
		{"top/d/l", "../f", true},
		{"top/d/e/l", "../../f", true},
		{"top/l", "../f", false},
		{"top/d/l", "../../f", false},
		{"top/l", "/etc/passwd", false},
		{"top/d/l", "s/../..", false},
		{"top/d/l", "a/../b", false},
		{"top/l", "", false},
		{"top", "anything", false},
	}
	x := &extractor{}
	for _, tc := range cases {
		if got := x.linkStaysInside(tc.rel, tc.target); got != tc.want {
			t.Errorf("linkStaysInside(%q, %q) = %v, want %v", tc.rel, tc.target, got, tc.want)
		}
	}
}

func TestLocalNameMapsTheTopAndRefusesTheRest(t *testing.T) {
	x := &extractor{top: "remote", name: "local"}
	cases := map[string]string{
		"remote":          "local",
		"./remote/":       "local",
		"remote/a/b":      "local/a/b",
		"./remote/./a//b": "local/a/b",
		"/remote/a":       "",
		"remote/../x":     "",
		"other/a":         "",
		"./":              "",
		`remote\..\x`:     "",
	}
	for in, want := range cases {
		got, err := x.localName(in)
		if (err != nil) != (want == "") || got != want {
			t.Errorf("localName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestHelperWorkloadMountsTheVolumeOnACPUAndStopsByItself(t *testing.T) {
	wl := HelperWorkload("imagenet.train", "amedeo.setti", "/data", true, "", "abc12")
	if wl.Name != "helper-imagenet-train-abc12" || wl.Namespace != "amedeo-setti" {
		t.Errorf("name %s/%s", wl.Namespace, wl.Name)
	}
	if wl.APIVersion != "dora.dev/v1alpha1" || wl.Kind != "Workload" {
		t.Errorf("type %s %s", wl.APIVersion, wl.Kind)
	}
	if wl.Labels[LabelHelper] != HelperVolumeData || wl.Labels[LabelHelperVolume] != "imagenet.train" || wl.Labels[LabelManagedBy] != ManagedBy {
		t.Errorf("labels %v", wl.Labels)
	}
	if wl.Annotations[AnnotationHelperVolume] != "amedeo.setti/imagenet.train" {
		t.Errorf("annotations %v", wl.Annotations)
	}
	s := wl.Spec
	if s.Selectors.GPU != nil || s.Selectors.CPU == nil || s.Selectors.CPU.Count.String() != DefaultCPU {
		t.Errorf("selectors %+v", s.Selectors)
	}
	if s.Image.Image != DefaultImage {
		t.Errorf("image %q", s.Image.Image)
	}
	if c := s.Config; c.MaxRunTime != "1h" || strings.Join(c.Cmd.Values, " ") != "sleep 3600" || !c.Cmd.IsList || c.RestartPolicy != doradev1.RestartNever {
		t.Errorf("config %+v", c)
	}
	want := doradev1.WorkloadVolume{Name: "imagenet.train", Target: "/data", ReadOnly: true}
	if len(s.Volumes) != 1 || s.Volumes[0] != want {
		t.Errorf("volumes %+v, want %+v", s.Volumes, want)
	}
	// The same volume and suffix give the same name; another suffix another.
	if again := HelperWorkload("imagenet.train", "amedeo.setti", "", false, "", "abc12"); again.Name != wl.Name {
		t.Errorf("names differ: %s, %s", again.Name, wl.Name)
	}
	if a, b := HelperWorkload("v", "w", "", false, "", ""), HelperWorkload("v", "w", "", false, "", ""); a.Name == b.Name {
		t.Errorf("two random suffixes gave one name %s", a.Name)
	}
}

func TestHelperForASharedVolumeWithOwnSettings(t *testing.T) {
	long := strings.Repeat("dataset.", 40) + "end"
	wl := NewHelper(HelperSpec{Volume: long, Workspace: "me", VolumeWorkspace: "datasets", Image: "ubuntu:24.04",
		Suffix: "Run_1", MaxRunTime: "2d", CPU: "2", MountPath: "/mnt/v"})
	if errs := validation.IsDNS1123Label(wl.Name); len(errs) > 0 {
		t.Errorf("name %q: %v", wl.Name, errs)
	}
	if !strings.HasSuffix(wl.Name, "-run-1") || naming.IsObjectName(wl.Name+"-0") == false {
		t.Errorf("name %q", wl.Name)
	}
	if errs := validation.IsValidLabelValue(wl.Labels[LabelHelperVolume]); len(errs) > 0 {
		t.Errorf("label %q: %v", wl.Labels[LabelHelperVolume], errs)
	}
	v := wl.Spec.Volumes[0]
	if v.Workspace != "datasets" || v.Target != "/mnt/v" || v.ReadOnly || wl.Namespace != "me" {
		t.Errorf("volume %+v in %s", v, wl.Namespace)
	}
	if wl.Annotations[AnnotationHelperVolume] != "datasets/"+long {
		t.Errorf("annotation %q", wl.Annotations[AnnotationHelperVolume])
	}
	if c := wl.Spec.Config; c.MaxRunTime != "2d" || c.Cmd.Values[1] != "172800" || wl.Spec.Selectors.CPU.Count.String() != "2" || wl.Spec.Image.Image != "ubuntu:24.04" {
		t.Errorf("config %+v", c)
	}
	// The workspace's own volume, named as such, is no shared volume.
	if own := NewHelper(HelperSpec{Volume: "home", Workspace: "me", VolumeWorkspace: "me"}); own.Spec.Volumes[0].Workspace != "" {
		t.Errorf("own volume with workspace %q", own.Spec.Volumes[0].Workspace)
	}
}

func TestMaxRunSeconds(t *testing.T) {
	cases := map[string]int64{"30s": 30, "10m": 600, "2h": 7200, "1d": 86400, "": 3600, "0h": 3600, "1w": 3600}
	for in, want := range cases {
		if got := maxRunSeconds(in); got != want {
			t.Errorf("maxRunSeconds(%q) = %d, want %d", in, got, want)
		}
	}
}
