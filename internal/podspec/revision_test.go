package podspec

import (
	"encoding/json"
	"regexp"
	"testing"

	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// full is a workload with every field set, to change one field at a time.
func full() *workloadWrapper {
	return makeWorkload().Replicas(2).
		GPU(intstr.FromInt32(2), doradev1.NewList("Quadro RTX 6000", "Tesla V100-SXM2-16GB")).
		CPU(intstr.FromInt32(4), doradev1.NewString("All")).
		Image("ubuntu", "Always").
		Cmd(doradev1.NewString("/bin/bash")).
		Env("A=1").
		ShmSize(1000000000).
		RestartPolicy("Always").
		Affinity("Distribute").
		Volume(doradev1.WorkloadVolume{Name: "home", Target: "/home"}).
		Port(doradev1.PortSpec{Name: "first", Kind: "NodePort", Protocol: "tcp", Port: 8008, NodePort: 25000})
}

// A revision changes with every change under spec that changes the pods, and only then:
// scaling and pausing replace nothing.
func TestTemplateHash(t *testing.T) {
	base := TemplateHash(full().Obj())
	cases := map[string]struct {
		wl       *doradev1.Workload
		wantSame bool
	}{
		"replica.count only scales":    {wl: full().Replicas(5).Obj(), wantSame: true},
		"replica.count 0 only scales":  {wl: full().Replicas(0).Obj(), wantSame: true},
		"replica left out only scales": {wl: func() *doradev1.Workload { w := full(); w.Spec.Replica = nil; return w.Obj() }(), wantSame: true},
		"paused only removes the pods": {wl: full().Paused().Obj(), wantSame: true},
		"metadata is not the spec": {wl: func() *doradev1.Workload {
			w := full()
			w.Labels = map[string]string{"a": "b"}
			w.Generation = 7
			return w.Obj()
		}(), wantSame: true},
		"status is not the spec":           {wl: func() *doradev1.Workload { w := full(); w.Status.Replicas = 2; return w.Obj() }(), wantSame: true},
		"gpu count 2 written as \"2\"":     {wl: full().GPU(intstr.FromString("2"), doradev1.NewList("Quadro RTX 6000", "Tesla V100-SXM2-16GB")).Obj(), wantSame: true},
		"cpu count 4 written as \"4000m\"": {wl: full().CPU(intstr.FromString("4000m"), doradev1.NewString("All")).Obj(), wantSame: true},
		"cmd as a list of its words":       {wl: full().Cmd(doradev1.NewList("/bin/bash")).Obj(), wantSame: true},
		"cmd with other spacing":           {wl: full().Cmd(doradev1.NewString("  /bin/bash ")).Obj(), wantSame: true},
		"cpu model All left out":           {wl: full().CPU(intstr.FromInt32(4), doradev1.StringOrList{}).Obj(), wantSame: true},
		"protocol TCP for tcp":             {wl: func() *doradev1.Workload { w := full(); w.Spec.Network.Ports[0].Protocol = "TCP"; return w.Obj() }(), wantSame: true},
		"image":                            {wl: full().Image("ubuntu:24.04", "Always").Obj()},
		"pullPolicy":                       {wl: full().Image("ubuntu", "IfNotPresent").Obj()},
		"cmd":                              {wl: full().Cmd(doradev1.NewString("/bin/sh")).Obj()},
		"env":                              {wl: full().Env("A=2").Obj()},
		"gpu count":                        {wl: full().GPU(intstr.FromInt32(1), doradev1.NewList("Quadro RTX 6000", "Tesla V100-SXM2-16GB")).Obj()},
		"gpu model":                        {wl: full().GPU(intstr.FromInt32(2), doradev1.NewList("Quadro RTX 6000")).Obj()},
		"cpu count":                        {wl: full().CPU(intstr.FromString("0.5"), doradev1.NewString("All")).Obj()},
		"node":                             {wl: full().Node("emcprom09").Obj()},
		"shmSize":                          {wl: full().ShmSize(2000000000).Obj()},
		"restartPolicy":                    {wl: full().RestartPolicy("Never").Obj()},
		"maxRunTime":                       {wl: full().MaxRunTime("1d").Obj()},
		"affinity":                         {wl: full().Affinity("Fill").Obj()},
		"a volume more":                    {wl: full().Volume(doradev1.WorkloadVolume{Name: "data", Target: "/data"}).Obj()},
		"a port more":                      {wl: full().Port(doradev1.PortSpec{Port: 6006}).Obj()},
		"network mode":                     {wl: full().NetworkMode("host").Obj()},
		"hostname":                         {wl: full().Hostname("trainer").Obj()},
		"notify by e-mail": {wl: func() *doradev1.Workload {
			w := full()
			w.Spec.Notify = &doradev1.NotifySpec{ByEmail: true}
			return w.Obj()
		}()},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := TemplateHash(tc.wl)
			if same := got == base; same != tc.wantSame {
				t.Errorf("TemplateHash = %q, base %q: same = %v, want %v", got, base, same, tc.wantSame)
			}
		})
	}
}

// A Workload built in memory and the same Workload as the API server returns it, with its
// defaults filled in, share a revision.
func TestTemplateHashIgnoresServerDefaults(t *testing.T) {
	built := makeWorkload().Port(doradev1.PortSpec{Port: 8008}).Obj()
	stored := makeWorkload().Port(doradev1.PortSpec{Port: 8008, Kind: "NodePort", Protocol: "tcp"}).Obj()
	stored.Spec.Replica = &doradev1.ReplicaSpec{Count: ptr.To[int32](1)}
	stored.Spec.Driver = "Docker"
	stored.Spec.Image.PullPolicy = "IfNotPresent"
	stored.Spec.Config = &doradev1.ContainerConfig{RestartPolicy: "Never", Affinity: "Random"}
	stored.Spec.Network.Mode = "bridge"
	stored.Spec.Notify = &doradev1.NotifySpec{}
	if a, b := TemplateHash(built), TemplateHash(stored); a != b {
		t.Errorf("TemplateHash(built) = %q, TemplateHash(defaulted) = %q, want them equal", a, b)
	}
}

// The revision is a label value of 10 hex digits, the same on every call, and the same after
// a round trip through JSON (as the controller's cache gives it back).
func TestTemplateHashIsStable(t *testing.T) {
	wl := full().Obj()
	first := TemplateHash(wl)
	if !regexp.MustCompile(`^[0-9a-f]{10}$`).MatchString(first) {
		t.Fatalf("TemplateHash = %q, want 10 hex digits", first)
	}
	for range 3 {
		if again := TemplateHash(wl); again != first {
			t.Fatalf("TemplateHash changed between calls: %q then %q", first, again)
		}
	}
	data, err := json.Marshal(wl)
	if err != nil {
		t.Fatal(err)
	}
	var back doradev1.Workload
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if got := TemplateHash(&back); got != first {
		t.Errorf("TemplateHash after a JSON round trip = %q, want %q", got, first)
	}
	if wl.Spec.Replica == nil || *wl.Spec.Replica.Count != 2 {
		t.Errorf("TemplateHash changed the workload it hashed: replica = %+v", wl.Spec.Replica)
	}
}

// A product given as a string is a list of one.
func TestTemplateHashProductForms(t *testing.T) {
	asString := makeWorkload().GPU(intstr.FromInt32(1), doradev1.NewString("Tesla V100-SXM2-16GB")).Obj()
	asList := makeWorkload().GPU(intstr.FromInt32(1), doradev1.NewList("Tesla V100-SXM2-16GB")).Obj()
	if a, b := TemplateHash(asString), TemplateHash(asList); a != b {
		t.Errorf("string %q, list %q: want one revision", a, b)
	}
}
