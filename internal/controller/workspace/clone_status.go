package workspace

import (
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// summarizeClone sets the clone's phase and the Cloned condition from its objects.
func summarizeClone(ws *doradev1.Workspace, now time.Time) {
	status := ws.Status.Clone
	var waiting, failed []string
	volumes, workloads := 0, 0
	for _, o := range status.Objects {
		switch o.State {
		case doradev1.CloneDone:
			if o.Kind == kindVolume {
				volumes++
			} else {
				workloads++
			}
		case doradev1.CloneFailed:
			failed = append(failed, fmt.Sprintf("%s %s: %s", o.Kind, o.Name, o.Message))
		default:
			waiting = append(waiting, fmt.Sprintf("%s %s", o.Kind, o.Name))
		}
	}
	switch {
	case len(waiting) > 0:
		status.Phase = doradev1.CloneRunning
		setCloned(ws, metav1.ConditionFalse, doradev1.ReasonCloning, fmt.Sprintf("copying %s: %d of %d objects left: %s",
			status.Source, len(waiting), len(status.Objects), strings.Join(waiting, ", ")))
		return
	case len(failed) > 0:
		status.Phase = doradev1.CloneFailed
		setCloned(ws, metav1.ConditionFalse, doradev1.ReasonCloneFailed, fmt.Sprintf("%d of %d objects of %s could not be copied: %s",
			len(failed), len(status.Objects), status.Source, strings.Join(failed, "; ")))
	default:
		status.Phase = doradev1.CloneComplete
		setCloned(ws, metav1.ConditionTrue, doradev1.ReasonCloneComplete, fmt.Sprintf("copied %d volumes and %d workloads from %s; the workloads are paused: set spec.paused to false to start one",
			volumes, workloads, status.Source))
	}
	if status.CompletionTime == nil {
		t := metav1.NewTime(now)
		status.CompletionTime = &t
	}
}

func setCloned(ws *doradev1.Workspace, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(&ws.Status.Conditions, metav1.Condition{
		Type: doradev1.WorkspaceCloned, Status: status, Reason: reason, Message: message, ObservedGeneration: ws.Generation,
	})
}
