package workload

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/naming"
	"github.com/dora-hpc/dora-operator/internal/workload"
)

// ClaimName is the PersistentVolumeClaim, in the workload's namespace, that backs a volume
// entry: the Volume's own name for a volume of the workload's workspace, and for a volume of
// another workspace a name that says whose it is and cannot meet a local one.
func ClaimName(workloadNamespace string, v doradev1.WorkloadVolume) string {
	ws := volumeWorkspace(v)
	if ws == "" || naming.WorkspaceNamespace(ws) == workloadNamespace {
		return v.Name
	}
	sum := sha256.Sum256([]byte(ws + "/" + v.Name))
	base := strings.Trim(naming.WorkspaceNamespace(ws)+"."+v.Name, ".-")
	if len(base) > 200 {
		base = base[:200]
	}
	return "shared." + base + "." + hex.EncodeToString(sum[:4])
}

func volumeWorkspace(v doradev1.WorkloadVolume) string {
	if v.Workspace != "" {
		return v.Workspace
	}
	return v.Group
}

// resolveVolumes finds the claim of every volume entry and whether it is mounted read-only.
// A blocker says which claims are missing or not yet bound; the pods wait for them.
func resolveVolumes(ctx context.Context, c client.Reader, wl *doradev1.Workload) ([]workload.VolumeClaim, *blocker, error) {
	claims := make([]workload.VolumeClaim, 0, len(wl.Spec.Volumes))
	var problems []string
	for _, v := range wl.Spec.Volumes {
		own := volumeWorkspace(v) == "" || naming.WorkspaceNamespace(volumeWorkspace(v)) == wl.Namespace
		volNamespace := wl.Namespace
		if !own {
			volNamespace = naming.WorkspaceNamespace(volumeWorkspace(v))
		}
		claim := workload.VolumeClaim{ClaimName: ClaimName(wl.Namespace, v), ReadOnly: v.ReadOnly}

		vol := &doradev1.Volume{}
		switch err := c.Get(ctx, client.ObjectKey{Namespace: volNamespace, Name: v.Name}, vol); {
		case apierrors.IsNotFound(err):
			problems = append(problems, fmt.Sprintf("Volume %s does not exist in namespace %s", v.Name, volNamespace))
			claims = append(claims, claim)
			continue
		case err != nil:
			return nil, nil, fmt.Errorf("reading volume %s/%s: %w", volNamespace, v.Name, err)
		}
		if vol.Spec.Policy == "readonly" || (!own && !vol.Spec.SharedWriters) {
			claim.ReadOnly = true
		}

		pvc := &corev1.PersistentVolumeClaim{}
		switch err := c.Get(ctx, client.ObjectKey{Namespace: wl.Namespace, Name: claim.ClaimName}, pvc); {
		case apierrors.IsNotFound(err):
			problems = append(problems, fmt.Sprintf("claim %s for volume %s does not exist yet", claim.ClaimName, v.Name))
		case err != nil:
			return nil, nil, fmt.Errorf("reading claim %s/%s: %w", wl.Namespace, claim.ClaimName, err)
		case pvc.Status.Phase != corev1.ClaimBound:
			problems = append(problems, fmt.Sprintf("claim %s for volume %s is %s, not Bound", claim.ClaimName, v.Name, pvc.Status.Phase))
		}
		claims = append(claims, claim)
	}
	if len(problems) > 0 {
		return claims, &blocker{reason: ReasonVolumesNotReady,
			message: "waiting for volumes: " + strings.Join(problems, "; ")}, nil
	}
	return claims, nil, nil
}
