package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestConfigPathFollowsDoraConfigThenXDGThenHome(t *testing.T) {
	cases := map[string]struct {
		env  map[string]string
		want string
	}{
		"DORA_CONFIG":        {env: map[string]string{"DORA_CONFIG": "/etc/dora.yaml", "XDG_CONFIG_HOME": "/x", "HOME": "/h"}, want: "/etc/dora.yaml"},
		"DORA_CONFIG with ~": {env: map[string]string{"DORA_CONFIG": "~/d.yaml", "HOME": "/h"}, want: "/h/d.yaml"},
		"XDG_CONFIG_HOME":    {env: map[string]string{"XDG_CONFIG_HOME": "/x", "HOME": "/h"}, want: "/x/dora/config.yaml"},
		"HOME":               {env: map[string]string{"HOME": "/h"}, want: "/h/.config/dora/config.yaml"},
		"empty DORA_CONFIG":  {env: map[string]string{"DORA_CONFIG": "", "HOME": "/h"}, want: "/h/.config/dora/config.yaml"},
	}
	for name, tc := range cases {
		if got := ConfigPath(func(k string) string { return tc.env[k] }); got != tc.want {
			t.Errorf("%s: ConfigPath = %q, want %q", name, got, tc.want)
		}
	}
}

func TestConfigIsReadWrittenAndAMissingFileIsEmpty(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "config.yaml")
	cfg, err := LoadConfig(path)
	if err != nil || len(cfg.Zones) != 0 || cfg.DefaultZone != "" {
		t.Fatalf("a missing file: %+v, %v", cfg, err)
	}
	cfg.DefaultZone, cfg.UsernamePrefix = "dc-rov-01", "oidc:"
	cfg.Zones = map[string]ZoneConfig{"dc-rov-01": {Context: "rov"}, "dc-test-01": {Context: "test", Kubeconfig: "/k"}}
	if err := cfg.Save(); err != nil {
		t.Fatal(err)
	}
	back, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(cfg, back, cmp.AllowUnexported(Config{})); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"dc-rov-01", "dc-test-01"}, back.ZoneNames()); diff != "" {
		t.Errorf("ZoneNames (-want +got):\n%s", diff)
	}
	if err := os.WriteFile(path, []byte("zones:\n  a: {contxt: b}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfig(path); err == nil || !strings.Contains(err.Error(), "contxt") {
		t.Errorf("a misspelt key is an error naming it, got %v", err)
	}
}

func TestAZoneIsItsConfiguredContextOrAContextOfItsName(t *testing.T) {
	cfg := &Config{path: "/c.yaml", Zones: map[string]ZoneConfig{"dc-rov-01": {Context: "rov"}, "dc-test-01": {}, "far": {Context: "f", Kubeconfig: "/k/far"}}}
	contexts := []string{"rov", "dc-test-01", "lab"}
	cases := map[string]struct {
		want    Zone
		wantErr string
	}{
		"configured":               {want: Zone{Name: "dc-rov-01", Context: "rov"}},
		"configured, default name": {want: Zone{Name: "dc-test-01", Context: "dc-test-01"}},
		"own kubeconfig":           {want: Zone{Name: "far", Context: "f", Kubeconfig: "/k/far"}},
		"a context of its name":    {want: Zone{Name: "lab", Context: "lab"}},
		"unknown":                  {wantErr: `unknown zone "dc-rov-02"; the zones are dc-rov-01, dc-test-01, far (from /c.yaml), and these kubeconfig contexts can be used as zones of their name: lab, rov; did you mean "dc-rov-01"?`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			zone := tc.want.Name
			if zone == "" {
				zone = "dc-rov-02"
			}
			got, err := cfg.ResolveZone(zone, contexts)
			checkErr(t, err, tc.wantErr)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	empty := &Config{path: "/c.yaml"}
	_, err := empty.ResolveZone("x", nil)
	checkErr(t, err, `unknown zone "x"; no zones are configured in /c.yaml; add one with: kubectl dora zones set NAME --context CONTEXT`)
}

func TestTheZoneComesFromTheFlagThenContextThenConfigThenUserThenKubeconfig(t *testing.T) {
	contexts := []string{"rov", "test", "other"}
	withDefault := &Config{DefaultZone: "dc-test-01", Zones: map[string]ZoneConfig{"dc-rov-01": {Context: "rov"}, "dc-test-01": {Context: "test"}}}
	plain := &Config{Zones: withDefault.Zones}
	user := func(z string) func() string { return func() string { return z } }
	cases := map[string]struct {
		cfg     *Config
		sel     ZoneSelection
		want    string
		why     string
		wantErr string
	}{
		"-z":                          {cfg: withDefault, sel: ZoneSelection{Flag: "dc-rov-01", CurrentContext: "test", UserDefault: user("dc-test-01")}, want: "dc-rov-01", why: "--zone"},
		"-z and a matching --context": {cfg: plain, sel: ZoneSelection{Flag: "dc-rov-01", ContextFlag: "rov"}, want: "dc-rov-01", why: "--zone"},
		"-z and another --context":    {cfg: plain, sel: ZoneSelection{Flag: "dc-rov-01", ContextFlag: "test"}, wantErr: "give one of the two"},
		"--context":                   {cfg: withDefault, sel: ZoneSelection{ContextFlag: "rov"}, want: "dc-rov-01", why: "--context"},
		"--context of no zone":        {cfg: plain, sel: ZoneSelection{ContextFlag: "other"}, want: "other", why: "--context"},
		"defaultZone":                 {cfg: withDefault, sel: ZoneSelection{CurrentContext: "rov", UserDefault: user("dc-rov-01")}, want: "dc-test-01", why: "defaultZone of "},
		"the user's default":          {cfg: plain, sel: ZoneSelection{CurrentContext: "rov", UserDefault: user("dc-test-01")}, want: "dc-test-01", why: "your Dora user's spec.default.zone"},
		"the current context":         {cfg: plain, sel: ZoneSelection{CurrentContext: "test", UserDefault: user("")}, want: "dc-test-01", why: "the current kubeconfig context"},
		"nothing":                     {cfg: plain, sel: ZoneSelection{}, wantErr: "no zone: give -z ZONE"},
		"an unknown -z":               {cfg: plain, sel: ZoneSelection{Flag: "mars"}, wantErr: `unknown zone "mars"`},
		"an unknown user default":     {cfg: plain, sel: ZoneSelection{UserDefault: user("mars")}, wantErr: `unknown zone "mars"`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, why, err := tc.cfg.SelectZone(tc.sel, contexts)
			checkErr(t, err, tc.wantErr)
			if tc.wantErr != "" {
				return
			}
			if got.Name != tc.want || !strings.HasPrefix(why, tc.why) {
				t.Errorf("got zone %q (from %q), want %q (from %q)", got.Name, why, tc.want, tc.why)
			}
		})
	}
}

func TestTheUserDefaultIsAskedOnlyWhenNothingElseDecides(t *testing.T) {
	asked := false
	cfg := &Config{DefaultZone: "a", Zones: map[string]ZoneConfig{"a": {}}}
	if _, _, err := cfg.SelectZone(ZoneSelection{UserDefault: func() string { asked = true; return "" }}, []string{"a"}); err != nil {
		t.Fatal(err)
	}
	if asked {
		t.Error("the user's default was asked although the config decides (it costs two API calls)")
	}
}
