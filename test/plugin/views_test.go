package plugin

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/dora-hpc/dora-operator/internal/cli/gpus"
	"github.com/dora-hpc/dora-operator/internal/cli/why"
)

// gpuWorkloadDoc is a Dora document of a workload in amedeo.setti of zone dc-rov-01 asking
// for count GPUs of product per replica.
func gpuWorkloadDoc(name, product string, count, replicas int) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Workload
metadata:
  name: %s
  group: amedeo.setti
  zone: dc-rov-01
spec:
  replica:
    count: %d
  selectors:
    gpu:
      product_name: %s
      count: %d
  image:
    image: ubuntu
`, name, replicas, product, count)
}

// applyWorkload applies a document as the administrator and deletes the workload when the
// test ends.
func applyWorkload(t *testing.T, name, doc string) {
	t.Helper()
	if r := doraIn(t, doc, "apply", "-f", "-"); r.code != 0 {
		t.Fatal(r)
	}
	t.Cleanup(func() { dora(t, "delete", name, "-g", "amedeo.setti") })
}

// whyReport runs why -o json until check accepts the report; it returns the report and
// the text of why.
func whyReport(t *testing.T, name string, check func(why.Report) bool) (why.Report, string) {
	t.Helper()
	var rep why.Report
	eventually(t, 90*time.Second, "why "+name, func() (bool, string) {
		r := dora(t, "why", name, "-g", "amedeo.setti", "-o", "json")
		if r.code != 0 {
			return false, r.String()
		}
		rep = why.Report{}
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			return false, err.Error() + "\n" + r.stdout
		}
		return check(rep), r.stdout
	})
	return rep, doraOK(t, "why", name, "-g", "amedeo.setti")
}

func firstCause(rep why.Report) why.Kind {
	if len(rep.Causes) == 0 {
		return ""
	}
	return rep.Causes[0].Kind
}

func TestWhySaysNoNodeHasTheModelAndListsTheModelsThereAre(t *testing.T) {
	seed(t)
	applyWorkload(t, "why.t4", gpuWorkloadDoc("why.t4", "Tesla T4", 1, 1))
	rep, out := whyReport(t, "why.t4", func(r why.Report) bool { return firstCause(r) == why.NoProduct })
	if rep.OK || rep.Name != "why.t4" || rep.Zone != zoneRov {
		t.Errorf("the report: %+v", rep)
	}
	mustContain(t, out,
		"Workload why.t4 in namespace amedeo-setti, zone dc-rov-01:",
		"Why it is not running:",
		"1 of 1 replicas wait: no node in zone dc-rov-01 has GPU model Tesla T4",
		"models here: NVIDIA H100 80GB HBM3 (8 GPUs", "Quadro RTX 6000 (8 GPUs", "Tesla V100-SXM2-16GB (16 GPUs",
		"What to do: set selectors.gpu.product_name to a model this zone has",
		"Replicas:", "why.t4-0", "Pending",
		"Conditions:", "Queued", "True")
	// In the zone that has the model, such a workload runs.
	eventually(t, time.Minute, "why says t4.inference runs in dc-test-01", func() (bool, string) {
		if r := dora(t, "get", "wk", "t4.inference", "-z", zoneTest, "-g", "amedeo.setti"); r.code != 0 {
			dora(t, "apply", "-f", testdata("two-zones.yaml"))
		}
		r := dora(t, "why", "t4.inference", "-z", zoneTest, "-g", "amedeo.setti")
		return strings.Contains(r.stdout, "Workload t4.inference in namespace amedeo-setti, zone dc-test-01: Running, 1/1 ready"), r.String()
	})
}

func TestWhySaysTheGPUsAreBusyAndWhereSomeAreFree(t *testing.T) {
	seed(t)
	// h100-0 is the one node with H100s, 8 of them: one replica takes them all, the other waits.
	applyWorkload(t, "why.busy", gpuWorkloadDoc("why.busy", "NVIDIA H100 80GB HBM3", 8, 2))
	rep, out := whyReport(t, "why.busy", func(r why.Report) bool { return firstCause(r) == why.GPUsBusy })
	c := rep.Causes[0]
	if len(c.Replicas) != 1 {
		t.Errorf("the waiting replicas: %v", c.Replicas)
	}
	if len(rep.Free) != 1 || rep.Free[0].Node != "h100-0" || rep.Free[0].Free != 0 || rep.Free[0].Total != 8 {
		t.Errorf("the free H100s: %+v", rep.Free)
	}
	mustContain(t, out,
		"1 of 2 replicas wait: each asks for 8 GPUs of NVIDIA H100 80GB HBM3, and no node has 8 free now: every one is in use",
		"the scheduler says: 0/6 nodes are available",
		"What to do: it starts by itself when GPUs free up",
		"GPUs of NVIDIA H100 80GB HBM3 free now (each replica asks for 8):",
		"h100-0", "Ready", "Unschedulable")
}

func TestWhySaysAPausedWorkloadIsPausedAndHowToResumeIt(t *testing.T) {
	seed(t)
	applyWorkload(t, "why.paused", workloadDoc("why.paused", "ubuntu", 0))
	waitPhase(t, "why.paused", "Running")
	_, out := whyReport(t, "why.paused", func(r why.Report) bool { return r.OK && firstCause(r) == why.Running })
	mustContain(t, out, "why.paused-0")
	doraOK(t, "pause", "why.paused", "-g", "amedeo.setti")
	_, out = whyReport(t, "why.paused", func(r why.Report) bool {
		return firstCause(r) == why.Paused && len(r.Replicas) == 1 && r.Replicas[0].Pod == ""
	})
	mustContain(t, out, "The workload is paused (spec.paused is true)", "What to do: resume it: kubectl dora resume why.paused", "Missing")
	r := dora(t, "why", "why.pasued", "-g", "amedeo.setti")
	mustContain(t, r.stderr, `workload "why.pasued" not found in workspace amedeo.setti (zone dc-rov-01); did you mean "why.paused"?`)
}

func TestGPUsMatchTheFleetAndFreeAreTheOnesNoPodHolds(t *testing.T) {
	seed(t)
	for zone, fleet := range map[string][]struct {
		product      string
		total, nodes int
	}{
		zoneRov:  {{"NVIDIA H100 80GB HBM3", 8, 1}, {"Quadro RTX 6000", 8, 2}, {"Tesla V100-SXM2-16GB", 16, 2}},
		zoneTest: {{"Tesla T4", 4, 1}},
	} {
		t.Run(zone, func(t *testing.T) {
			var sum gpus.Summary
			eventually(t, time.Minute, "the GPUs used are those the pods ask for", func() (bool, string) {
				out := doraOK(t, "gpus", "-z", zone, "-o", "json")
				sum = gpus.Summary{}
				if err := json.Unmarshal([]byte(out), &sum); err != nil {
					t.Fatalf("%v:\n%s", err, out)
				}
				used, asked := 0, podGPUs(t, zone)
				for _, m := range sum.Models {
					used += m.Used
				}
				return used == asked, fmt.Sprintf("%d GPUs used, the pods ask for %d:\n%s", used, asked, out)
			})
			if len(sum.Models) != len(fleet) {
				t.Fatalf("the models: %+v", sum.Models)
			}
			freeTotal := 0
			for i, want := range fleet {
				m := sum.Models[i]
				if m.Product != want.product || m.Total != want.total || m.Nodes != want.nodes || m.Used+m.Free+m.Unavailable != m.Total {
					t.Errorf("model %d: %+v, want %+v", i, m, want)
				}
				freeTotal += m.Free
			}
			out := doraOK(t, "gpus", "-z", zone, "--summary")
			if !strings.HasPrefix(squeeze(out), "MODEL TOTAL USED FREE UNAVAILABLE NODES MAX FREE ON A NODE\n") {
				t.Errorf("gpus --summary:\n%s", out)
			}
			for _, want := range fleet {
				if !containsRows(out, []string{fmt.Sprintf("%s %d", want.product, want.total)}) {
					t.Errorf("gpus --summary has no row %s %d:\n%s", want.product, want.total, out)
				}
			}
			// --free lists one row per free GPU, each Free.
			eventually(t, 30*time.Second, "gpus --free lists the free GPUs", func() (bool, string) {
				out := doraOK(t, "gpus", "-z", zone, "--free", "--no-headers")
				rows := fields(out)
				for _, r := range rows {
					if len(r) < 6 || r[len(r)-2] != "Free" || r[len(r)-1] != "-" {
						t.Errorf("a row of gpus --free is not a free GPU: %v\n%s", r, out)
					}
				}
				return len(rows) == freeTotal, fmt.Sprintf("%d rows, %d free:\n%s", len(rows), freeTotal, out)
			})
		})
	}
	// Per node, by model, and through get.
	out := doraOK(t, "gpus", "--nodes")
	if !containsRows(out, []string{"h100-0 NVIDIA H100 80GB HBM3 8", "rtx6000-0 Quadro RTX 6000 4", "v100-1 Tesla V100-SXM2-16GB 8"}) {
		t.Errorf("gpus --nodes:\n%s", out)
	}
	out = doraOK(t, "get", "gpus", "t4", "-z", zoneTest)
	if f := fields(out); len(f) != 5 || strings.Join(f[0], " ") != "NODE GPU MODEL MEMORY UTIL STATE POD" || f[1][0] != "t4-0" || f[1][1] != "0" {
		t.Errorf("get gpus t4:\n%s", out)
	}
	mustContain(t, doraOK(t, "gpus", "--model", "v100", "-o", "wide"), "UUID", "HEALTH", "Healthy")
	mustContain(t, doraOK(t, "gpus", "--model", "a100"), `No GPUs of a model matching "a100".`)
	// A user, who may not read the Kubernetes Nodes, sees the same fleet.
	mustContain(t, doraOK(t, "--as", "amedeo.setti", "gpus", "--summary", "-z", zoneTest), "Tesla T4")
}

// podGPUs is the number of GPUs the pods bound to a zone's nodes ask for, not finished.
func podGPUs(t *testing.T, zone string) int {
	t.Helper()
	list := &corev1.PodList{}
	if err := admin(zone).List(context.Background(), list); err != nil {
		t.Fatal(err)
	}
	n := 0
	for i := range list.Items {
		p := &list.Items[i]
		if p.Spec.NodeName != "" && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			n += int(gpus.PodGPUs(p))
		}
	}
	return n
}

// labelledLine is the line of text that starts with label, without it.
func labelledLine(text, label string) string {
	for _, l := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(l), label); ok {
			return strings.TrimSpace(rest)
		}
	}
	return ""
}

// labelled is the first word after label in text ("Used:" -> "0.03").
func labelled(text, label string) string {
	for _, l := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(l), label); ok {
			if f := strings.Fields(rest); len(f) > 0 {
				return f[0]
			}
		}
	}
	return ""
}

func TestCreditsAndUsageOfAUserWhoseWorkloadRan(t *testing.T) {
	seed(t)
	doc := gpuWorkloadDoc("credits.run", "Tesla V100-SXM2-16GB", 4, 1)
	eventuallyDora(t, doc, "--as", "amedeo.setti", "apply", "-f", "-")
	waitPhase(t, "credits.run", "Running")
	time.Sleep(10 * time.Second)
	var out string
	eventually(t, time.Minute, "amedeo.setti's credits are used", func() (bool, string) {
		r := doraAs(t, "amedeo.setti", "credits")
		out = r.stdout
		used, err := strconv.ParseFloat(labelled(out, "Used:"), 64)
		return r.code == 0 && err == nil && used > 0, r.String()
	})
	mustContain(t, out, "Credits of amedeo.setti in zone dc-rov-01, at ", "Weekly budget:", "500", "Remaining:", "Burn rate:", "credits/hour", "Runs out:", "Next reset:", "UTC, in ")
	if rate, _ := strconv.ParseFloat(labelled(out, "Burn rate:"), 64); rate < 10 {
		t.Errorf("4 V100s at 2.5 an hour burn at least 10 an hour:\n%s", out)
	}
	// The caller's time zone.
	r := runKubectl(t, runOptions{env: []string{"TZ=Europe/Rome"}}, "dora", "--as", "amedeo.setti", "credits")
	if reset := labelledLine(r.stdout, "Next reset:"); !strings.Contains(reset, " CET,") && !strings.Contains(reset, " CEST,") {
		t.Errorf("with TZ=Europe/Rome the reset is not in Rome's time: %q\n%s", reset, r)
	}
	// Every zone, one line each; another user's, as an administrator.
	out = doraAs(t, "amedeo.setti", "credits", "--all-zones").stdout
	if !strings.HasPrefix(squeeze(out), "ZONE WEEKLY USED REMAINING") || !containsRows(out, []string{"dc-rov-01 500", "dc-test-01 100"}) {
		t.Errorf("credits --all-zones:\n%s", out)
	}
	mustContain(t, doraOK(t, "credits", "--dora-user", "amedeo.setti"), "Credits of amedeo.setti in zone dc-rov-01")
	r = dora(t, "credits")
	mustContain(t, r.stderr, "dora-simcluster-admin is no Dora user", "--dora-user")

	// Once the workload is gone its time is counted in the usage.
	doraOK(t, "delete", "credits.run", "-g", "amedeo.setti")
	var row []string
	eventually(t, time.Minute, "the usage has the V100s' hours", func() (bool, string) {
		r := doraAs(t, "amedeo.setti", "usage", "-o", "csv")
		records, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
		if r.code != 0 || err != nil || len(records) < 2 {
			return false, fmt.Sprintf("%v\n%s", err, r)
		}
		if strings.Join(records[0], ",") != "week,week_start,week_end,product,gpu_hours,credits" {
			t.Fatalf("the CSV header: %v", records[0])
		}
		for _, rec := range records[1:] {
			if rec[0] == "0" && rec[3] == "Tesla V100-SXM2-16GB" {
				row = rec
				hours, _ := strconv.ParseFloat(rec[4], 64)
				credits, _ := strconv.ParseFloat(rec[5], 64)
				return hours > 0 && credits > 0, r.stdout
			}
		}
		return false, r.stdout
	})
	if _, err := time.Parse(time.RFC3339, row[1]); err != nil {
		t.Errorf("week_start %q: %v", row[1], err)
	}
	out = doraAs(t, "amedeo.setti", "usage", "--week", "0").stdout
	if !strings.HasPrefix(squeeze(out), "WEEK FROM TO PRODUCT GPU-HOURS CREDITS\n") || !strings.Contains(out, "Tesla V100-SXM2-16GB") {
		t.Errorf("usage --week 0:\n%s", out)
	}
	r = doraAs(t, "amedeo.setti", "usage", "--week", "last")
	mustContain(t, r.stderr, `--week "last": give a number of weeks back`)
}
