package access

import (
	"context"
	"testing"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

func TestSharedWritersReadsEverywhereAndWritesWhereInvited(t *testing.T) {
	cases := []struct {
		policy        string
		sharedWriters bool
		write         bool
	}{
		{doradev1.VolumeReadWrite, false, false},
		{doradev1.VolumeReadWrite, true, true},
		{doradev1.VolumeReadOnly, true, false},
		{doradev1.VolumeReadOnly, false, false},
	}
	for _, c := range cases {
		vol := &doradev1.Volume{Spec: doradev1.VolumeSpec{Policy: c.policy, SharedWriters: c.sharedWriters}}
		d, err := SharedWriters{}.MountVolume(context.Background(), "amedeo-setti", vol)
		if err != nil || !d.Allowed || d.Write != c.write {
			t.Errorf("policy %s, sharedWriters %v: %+v %v, want allowed, write %v", c.policy, c.sharedWriters, d, err, c.write)
		}
	}
}
