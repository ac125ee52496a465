package plugin

import (
	"bufio"
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

func TestGetKnowsDorasKindNamesAndAliases(t *testing.T) {
	seed(t)
	cases := []struct {
		names  []string
		header string
		rows   []string
	}{
		{[]string{"wk", "workload", "workloads", "Workload"}, "NAME READY GPUS PRODUCT PHASE AGE", []string{"blue.red 2/2 2", "hello 1/1"}},
		{[]string{"c", "container", "containers"}, "NAME WORKLOAD REPLICA NODE GPUS STATE REASON AGE", []string{"blue.red-0 blue.red 0", "blue.red-1 blue.red 1", "hello-0 hello 0"}},
		{[]string{"vol", "volume", "volumes"}, "NAME STORAGE POLICY READY AGE", []string{"home dora.storage.01 readwrite True"}},
		{[]string{"ws", "workspace", "workspaces"}, "NAME NAMESPACE READY AGE", []string{"amedeo.setti amedeo-setti True", "datasets datasets True"}},
		{[]string{"node", "nodes"}, "NAME GPUS MODELS READY DISABLED AGE", []string{"v100-0 8 Tesla V100-SXM2-16GB True", "h100-0 8 NVIDIA H100 80GB HBM3 True", "cpu-0 True"}},
		{[]string{"storage", "storages"}, "NAME ENDPOINT MOUNTPATH KIND VOLUMES AGE", []string{"dora.storage.01 10.10.10.1 /dora-storage-01/share-01 NFS"}},
		{[]string{"rc", "resourcecredit", "resourcecredits", "Resourcecredit"}, "NAME PRODUCT PER HOUR UNIT AGE", []string{"tesla-v100-sxm2-16gb-98202f79 Tesla V100-SXM2-16GB 2.5 €"}},
		{[]string{"uc", "usercredit", "usercredits"}, "NAME USER USED REMAINING EXHAUSTED AGE", []string{"amedeo.setti amedeo.setti"}},
		{[]string{"z", "zone", "zones"}, "NAME ENDPOINT NODES AGE", []string{"dc-rov-01 https://mydora1.doracluster.com 6"}},
		{[]string{"user", "users"}, "NAME WORKSPACE ZONE AGE", []string{"amedeo.setti amedeo.setti dc-rov-01"}},
		{[]string{"role", "roles"}, "NAME CLUSTERROLE AGE", []string{"user dora:role:user:namespaced"}},
	}
	for _, tc := range cases {
		t.Run(tc.names[0], func(t *testing.T) {
			var first string
			for _, name := range tc.names {
				var out string
				eventually(t, 30*time.Second, "get "+name, func() (bool, string) {
					out = doraOK(t, "get", name, "-g", "amedeo.setti")
					return containsRows(out, tc.rows), out
				})
				squeezed := squeeze(out)
				if !strings.HasPrefix(squeezed, tc.header+"\n") {
					t.Errorf("get %s: the columns are not %q:\n%s", name, tc.header, out)
				}
				if first == "" {
					first = names(out)
				} else if names(out) != first {
					t.Errorf("get %s lists %q, get %s %q", name, names(out), tc.names[0], first)
				}
			}
		})
	}
}

// squeeze turns each run of spaces in a table into one, so rows compare as words.
func squeeze(out string) string {
	var b strings.Builder
	for _, f := range fields(out) {
		b.WriteString(strings.Join(f, " ") + "\n")
	}
	return b.String()
}

// containsRows reports whether every row (words, start of a line) is in the table.
func containsRows(out string, rows []string) bool {
	s := "\n" + squeeze(out)
	for _, r := range rows {
		if !strings.Contains(s, "\n"+r) {
			return false
		}
	}
	return true
}

// names are the first column of a table without its header.
func names(out string) string {
	var n []string
	for _, f := range fields(out)[1:] {
		n = append(n, f[0])
	}
	return strings.Join(n, ",")
}

func TestGetAllWorkspacesAndAllZonesAddColumns(t *testing.T) {
	seed(t)
	out := doraOK(t, "get", "ws", "--all-zones")
	if !containsRows(out, []string{"dc-rov-01 amedeo.setti amedeo-setti True", "dc-test-01 amedeo.setti amedeo-setti True", "dc-test-01 datasets"}) ||
		!strings.HasPrefix(squeeze(out), "ZONE NAME NAMESPACE READY AGE\n") {
		t.Errorf("get ws --all-zones:\n%s", out)
	}
	out = doraOK(t, "get", "vol", "-A")
	if !strings.HasPrefix(squeeze(out), "NAMESPACE NAME STORAGE") || !containsRows(out, []string{"amedeo-setti home", "datasets imagenetpytorch"}) {
		t.Errorf("get vol -A:\n%s", out)
	}
	out = doraOK(t, "get", "nodes", "--all-zones", "--no-headers")
	if !containsRows(out, []string{"dc-rov-01 v100-1 8", "dc-test-01 t4-0 4 Tesla T4", "dc-test-01 cpu-0"}) || strings.Contains(out, "NAME") {
		t.Errorf("get nodes --all-zones --no-headers:\n%s", out)
	}
	// A User's own printer column Zone is its default zone: beside the ZONE column, it says so.
	out = doraOK(t, "get", "users", "--all-zones")
	if !strings.HasPrefix(squeeze(out), "ZONE NAME WORKSPACE DEFAULT ZONE AGE\n") {
		t.Errorf("get users --all-zones:\n%s", out)
	}
}

func TestGetOutputFormatsAreKubectls(t *testing.T) {
	seed(t)
	ws := []string{"-g", "amedeo.setti"}
	if out := doraOK(t, append([]string{"get", "wk", "-o", "name"}, ws...)...); !strings.Contains(out, "workload.dora.dev/blue.red\n") {
		t.Errorf("-o name:\n%s", out)
	}
	if out := doraOK(t, append([]string{"get", "wk", "blue.red", "-o", "jsonpath={.spec.selectors.gpu.product_name[1]}"}, ws...)...); out != "Tesla V100-SXM2-16GB" {
		t.Errorf("-o jsonpath: %q", out)
	}
	var list struct {
		Kind  string
		Items []doradev1.Workload
	}
	if err := json.Unmarshal([]byte(doraOK(t, append([]string{"get", "wk", "-o", "json"}, ws...)...)), &list); err != nil || list.Kind != "List" || len(list.Items) < 2 {
		t.Errorf("-o json is a List of the workloads: %v %+v", err, list)
	}
	wide := doraOK(t, append([]string{"get", "wk", "-o", "wide"}, ws...)...)
	if !strings.HasPrefix(squeeze(wide), "NAME READY GPUS PRODUCT PHASE IMAGE AGE\n") {
		t.Errorf("-o wide adds the image:\n%s", wide)
	}
	if out := doraOK(t, append([]string{"get", "c", "blue.red-1", "-o", "wide", "--no-headers"}, ws...)...); !containsRows(out, []string{"blue.red-1 blue.red 1"}) || !strings.Contains(out, "ubuntu") {
		t.Errorf("a container, wide:\n%s", out)
	}
	if r := dora(t, append([]string{"get", "wk", "-o", "pretty"}, ws...)...); r.code == 0 || !strings.Contains(r.stderr, "unknown output format") {
		t.Errorf("an unknown -o:\n%s", r)
	}
}

func TestDoraOutputIsDorasOwnDocumentAndAppliesBackUnchanged(t *testing.T) {
	seed(t)
	out := doraOK(t, "get", "wk", "blue.red", "-g", "amedeo.setti", "-o", "dora")
	mustContain(t, out, "apiVersion: v1\n", "kind: Workload\n", "  group: amedeo.setti\n", "  name: blue.red\n", "  zone: dc-rov-01\n",
		"    - Quadro RTX 6000\n", "nodePort: 25000")
	if strings.Contains(out, "status:") || strings.Contains(out, "managedFields") || strings.Contains(out, "namespace:") {
		t.Errorf("-o dora keeps what is no part of a Dora document:\n%s", out)
	}
	before := &doradev1.Workload{}
	exists(t, zoneRov, before, "amedeo-setti", "blue.red")
	r := doraIn(t, out, "apply", "-f", "-")
	if r.code != 0 {
		t.Fatal(r)
	}
	after := &doradev1.Workload{}
	exists(t, zoneRov, after, "amedeo-setti", "blue.red")
	if after.Generation != before.Generation {
		t.Errorf("applying the exported document changed the workload's spec: generation %d -> %d", before.Generation, after.Generation)
	}
	// Every Dora kind exports, and the export of a cluster-wide kind names no zone.
	user := doraOK(t, "get", "user", "amedeo.setti", "-o", "dora")
	mustContain(t, user, "kind: User\n", "  name: amedeo.setti\n", "weekly: 500")
	if strings.Contains(user, "zone: dc-rov-01\n  name") {
		t.Errorf("a User exported with a zone:\n%s", user)
	}
	rc := doraOK(t, "get", "rc", "-o", "dora")
	mustContain(t, rc, "kind: Resourcecredit\n", "  name: Tesla V100-SXM2-16GB\n")
}

func TestAMissingObjectOrZoneOrKindSaysWhatExists(t *testing.T) {
	seed(t)
	cases := map[string]struct {
		args []string
		says []string
	}{
		"a misspelt workload": {[]string{"get", "wk", "blue.rde", "-g", "amedeo.setti"},
			[]string{`workload "blue.rde" not found in workspace amedeo.setti (zone dc-rov-01); did you mean "blue.red"?`}},
		"a misspelt workspace object": {[]string{"describe", "vol", "hoem", "-g", "amedeo.setti"},
			[]string{`volume "hoem" not found in workspace amedeo.setti (zone dc-rov-01); did you mean "home"?`}},
		"a misspelt resourcecredit": {[]string{"get", "rc", "Tesla V100-SXM2-16G"},
			[]string{`resourcecredit "Tesla V100-SXM2-16G" not found in zone dc-rov-01; did you mean "Tesla V100-SXM2-16GB"?`}},
		"logs of nothing": {[]string{"logs", "blue.rde", "-g", "amedeo.setti"},
			[]string{`workload or container "blue.rde" not found in workspace amedeo.setti (zone dc-rov-01); did you mean "blue.red"?`}},
		"an unknown zone": {[]string{"get", "wk", "-z", "dc-rov-02"},
			[]string{`unknown zone "dc-rov-02"; the zones are dc-rov-01, dc-test-01`, `did you mean "dc-rov-01"?`}},
		"an unknown kind": {[]string{"get", "wrkload"},
			[]string{`unknown kind "wrkload"`, "workloads (wk)", `did you mean "workload"?`}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := dora(t, tc.args...)
			if r.code == 0 {
				t.Fatalf("it succeeded:\n%s", r)
			}
			mustContain(t, r.stderr, tc.says...)
		})
	}
}

func TestTheUsersViewIsTheirDefaultsAndTheirRefusalsSayWhoAsked(t *testing.T) {
	seed(t)
	// amedeo.setti's User says dc-rov-01 and amedeo.setti: no -z, no -g.
	out := ""
	eventually(t, time.Minute, "amedeo.setti lists their workloads", func() (bool, string) {
		r := doraAs(t, "amedeo.setti", "get", "wk")
		out = r.stdout
		return r.code == 0 && containsRows(out, []string{"blue.red 2/2"}), r.String()
	})
	r := doraAs(t, "amedeo.setti", "get", "wk", "-A")
	if r.code == 0 {
		t.Fatalf("a tenant listed every workspace:\n%s", r)
	}
	mustContain(t, r.stderr, "listing workloads in any workspace of zone dc-rov-01 as amedeo.setti", `User "amedeo.setti" cannot list resource "workloads"`)
	r = doraAs(t, "amedeo.setti", "get", "wk", "-g", "datasets")
	mustContain(t, r.stderr, "listing workloads in workspace datasets (zone dc-rov-01) as amedeo.setti", "forbidden")
}

func TestWatchPrintsEachChange(t *testing.T) {
	seed(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, kubectlPath, "dora", "get", "wk", "hello", "-g", "amedeo.setti", "-w")
	cmd.Env = kubectlEnv(nil)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	seen := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			seen <- sc.Text()
		}
		close(seen)
	}()
	expect := func(what string, match func(string) bool) {
		t.Helper()
		for {
			select {
			case line, ok := <-seen:
				if !ok {
					t.Fatalf("the watch ended before %s", what)
				}
				if match(line) {
					return
				}
			case <-ctx.Done():
				t.Fatalf("the watch did not show %s", what)
			}
		}
	}
	expect("the table", func(l string) bool { return strings.HasPrefix(l, "hello ") && strings.Contains(l, "Running") })
	wl := &doradev1.Workload{ObjectMeta: objectMeta("amedeo-setti", "hello")}
	if err := admin(zoneRov).Patch(ctx, wl, client.RawPatch("application/merge-patch+json", []byte(`{"spec":{"paused":true}}`))); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = admin(zoneRov).Patch(context.Background(), wl, client.RawPatch("application/merge-patch+json", []byte(`{"spec":{"paused":false}}`)))
	}()
	expect("the pause", func(l string) bool { return strings.HasPrefix(l, "hello ") && strings.Contains(l, "Paused") })
}

func TestKubectlsOwnFlagsPickTheKubeconfigContextAndNamespace(t *testing.T) {
	seed(t)
	if a, b := doraOK(t, "get", "wk", "-n", "amedeo-setti", "-o", "name"), doraOK(t, "get", "wk", "-g", "amedeo.setti", "-o", "name"); a != b || a == "" {
		t.Errorf("-n amedeo-setti lists %q, -g amedeo.setti %q", a, b)
	}
	if out := doraOK(t, "get", "nodes", "--context", zoneTest); !strings.Contains(out, "t4-0") || strings.Contains(out, "v100") {
		t.Errorf("--context dc-test-01 reads that cluster:\n%s", out)
	}
	r := runKubectl(t, runOptions{env: []string{"KUBECONFIG="}}, "dora", "get", "nodes", "-z", zoneTest, "--kubeconfig", work.kubeconfig)
	if r.code != 0 || !strings.Contains(r.stdout, "t4-0") {
		t.Errorf("--kubeconfig:\n%s", r)
	}
	if r := dora(t, "get", "nodes", "-z", zoneRov, "--context", zoneTest); r.code == 0 || !strings.Contains(r.stderr, "give one of the two") {
		t.Errorf("-z and another --context:\n%s", r)
	}
}
