package plugin

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

func TestWhoamiSaysWhoYouAreYourDefaultsGrantsAndCredits(t *testing.T) {
	seed(t)
	var out string
	eventually(t, time.Minute, "amedeo.setti's credits are counted", func() (bool, string) {
		r := doraAs(t, "amedeo.setti", "whoami")
		out = r.stdout
		return r.code == 0 && strings.Contains(out, "Credits in dc-rov-01:") && strings.Contains(out, "Remaining:"), r.String()
	})
	mustContain(t, out,
		"Zone:               dc-rov-01 (kubeconfig context dc-rov-01)",
		"Kubernetes user:    amedeo.setti (groups: system:authenticated)",
		"Dora user:          amedeo.setti",
		"Default zone:       dc-rov-01",
		"Default workspace:  amedeo.setti",
		"Grants:", "user   All      amedeo.setti   All", "user   Volume   datasets       All",
		"Weekly:", "500", "Next reset:")
	// In the other zone, the other budget.
	mustContain(t, doraOK(t, "--as", "amedeo.setti", "whoami", "-z", zoneTest), "Zone:               dc-test-01", "Credits in dc-test-01:", "100")
	mustContain(t, doraOK(t, "--as", "amedeo.setti", "whoami", "-o", "yaml"), "doraUser: amedeo.setti", "defaultWorkspace: amedeo.setti", "weekly: \"500\"")
	// An administrator is no Dora user.
	mustContain(t, doraOK(t, "whoami"), "Kubernetes user:  dora-simcluster-admin", "Dora user:        <none>", "there is no Dora User dora-simcluster-admin in zone dc-rov-01")
}

func TestCompletionWorksThroughKubectlAndAsScripts(t *testing.T) {
	seed(t)
	for shell, want := range map[string]string{"bash": "__start_kubectl-dora", "zsh": "#compdef kubectl-dora", "fish": "complete -c kubectl-dora"} {
		mustContain(t, doraOK(t, "completion", shell), want)
	}
	// kubectl completes `kubectl dora ...` by running kubectl_complete-dora.
	complete := func(args ...string) string {
		t.Helper()
		r := runKubectl(t, runOptions{}, append([]string{"__complete", "dora"}, args...)...)
		if r.code != 0 {
			t.Fatal(r)
		}
		return r.stdout
	}
	mustContain(t, complete(""), "apply\t", "get\t", "shell\t", "whoami\t")
	mustContain(t, complete("get", ""), "wk\n", "containers\n", "rc\n")
	mustContain(t, complete("get", "wk", "-g", "amedeo.setti", "b"), "blue.red\n", ":4\n")
	out := complete("logs", "-g", "amedeo.setti", "")
	mustContain(t, out, "blue.red\n", "blue.red-0\n", "blue.red-1\n", "hello-0\n")
	mustContain(t, complete("get", "wk", "--zone", ""), "dc-rov-01\n", "dc-test-01\n")
	mustContain(t, complete("--as", "amedeo.setti", "shell", "hel"), "hello\n", "hello-0\n")
}

func TestZonesAreListedSetAndChosenAndAContextNamedLikeAZoneNeedsNoConfig(t *testing.T) {
	seed(t)
	dir := t.TempDir()
	config := filepath.Join(dir, "dora.yaml")
	data, err := os.ReadFile(work.config)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(config, data, 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) result {
		t.Helper()
		return runKubectl(t, runOptions{env: []string{"DORA_CONFIG=" + config}}, append([]string{"dora"}, args...)...)
	}
	r := run("zones")
	if squeeze(r.stdout) != "NAME CONTEXT CURRENT\ndc-rov-01 dc-rov-01 *\ndc-test-01 dc-test-01\n" {
		t.Errorf("zones:\n%s", r)
	}
	mustContain(t, run("zones", "set", "lab", "--context", zoneTest).stdout, "zone lab is context dc-test-01")
	if out := run("get", "nodes", "-z", "lab").stdout; !strings.Contains(out, "t4-0") {
		t.Errorf("-z lab reads dc-test-01's nodes:\n%s", out)
	}
	mustContain(t, run("zones", "use", zoneTest).stdout, "the default zone is dc-test-01")
	if out := run("get", "nodes").stdout; !strings.Contains(out, "t4-0") || strings.Contains(out, "v100") {
		t.Errorf("after zones use dc-test-01, get nodes:\n%s", out)
	}
	if r := run("zones", "use", "mars"); r.code == 0 || !strings.Contains(r.stderr, `unknown zone "mars"`) {
		t.Errorf("zones use mars:\n%s", r)
	}
	saved, _ := os.ReadFile(config)
	mustContain(t, string(saved), "defaultZone: dc-test-01", "lab:", "context: dc-test-01")

	// A zone that cannot be reached says where it was tried and as whom.
	dead := filepath.Join(dir, "dead.kubeconfig")
	deadConfig := "apiVersion: v1\nkind: Config\nclusters:\n- name: dead\n  cluster: {server: \"https://127.0.0.1:1\", insecure-skip-tls-verify: true}\n" +
		"users:\n- name: nobody\n  user: {token: x}\ncontexts:\n- name: dead\n  context: {cluster: dead, user: nobody}\ncurrent-context: dead\n"
	if err := os.WriteFile(dead, []byte(deadConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	run("zones", "set", "dead", "--context", "dead", "--kubeconfig", dead)
	r = run("get", "nodes", "-z", "dead")
	if r.code == 0 {
		t.Fatalf("a zone that cannot be reached answered:\n%s", r)
	}
	mustContain(t, r.stderr, "listing nodes in zone dead: cannot reach zone dead's API server https://127.0.0.1:1 (kubeconfig context dead) as kubeconfig user nobody", "connection refused")

	// Without a config file, a context named like the zone is the zone.
	none := runOptions{env: []string{"DORA_CONFIG=" + filepath.Join(dir, "none.yaml")}}
	if r := runKubectl(t, none, "dora", "get", "nodes", "-z", zoneTest); r.code != 0 || !strings.Contains(r.stdout, "t4-0") {
		t.Errorf("-z dc-test-01 without a config:\n%s", r)
	}
	r = runKubectl(t, none, "dora", "zones")
	mustContain(t, r.stdout, "dc-rov-01", "dc-test-01")
	mustContain(t, r.stderr, "No zones configured")
}

func TestKubectlDoraLinkedAsTheCompletionProgramAnswersCompletions(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "kubectl_complete-dora")
	if err := os.Symlink(filepath.Join(work.bin, "kubectl-dora"), link); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(link, "get", "")
	cmd.Env = kubectlEnv(nil)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, string(out), "wk\n", "rc\n", ":4\n")
}

func TestTheKrewManifestCoversLinuxAndDarwinOnAmd64AndArm64(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "plugins", "dora.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var manifest struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct{ Name string }
		Spec       struct {
			Version   string
			Platforms []struct {
				Selector struct {
					MatchLabels map[string]string `json:"matchLabels"`
				}
				URI    string
				Sha256 string
				Bin    string
				Files  []struct{ From, To string }
			}
		}
	}
	if err := yaml.Unmarshal(data, &manifest); err != nil {
		t.Fatal(err)
	}
	if manifest.APIVersion != "krew.googlecontainertools.github.com/v1alpha2" || manifest.Kind != "Plugin" || manifest.Metadata.Name != "dora" {
		t.Errorf("not a krew Plugin named dora: %+v", manifest)
	}
	seen := map[string]bool{}
	for _, p := range manifest.Spec.Platforms {
		key := p.Selector.MatchLabels["os"] + "/" + p.Selector.MatchLabels["arch"]
		seen[key] = true
		if p.Bin != "kubectl-dora" || !strings.Contains(p.URI, strings.ReplaceAll(key, "/", "_")) || len(p.Sha256) != 64 {
			t.Errorf("%s: bin %q, uri %q, sha256 %q", key, p.Bin, p.URI, p.Sha256)
		}
		var files []string
		for _, f := range p.Files {
			files = append(files, f.From)
		}
		if !slices.Contains(files, "kubectl_complete-dora") {
			t.Errorf("%s ships no kubectl_complete-dora: %v", key, files)
		}
	}
	for _, want := range []string{"linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64"} {
		if !seen[want] {
			t.Errorf("no platform %s", want)
		}
	}
}
