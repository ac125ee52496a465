package webhook

import (
	"context"
	"fmt"
	"strings"

	admissionv1 "k8s.io/api/admission/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/podspec"
)

// deviceEnv are the variables that choose which GPUs or device features a container sees.
// The GPUs a workload gets come from selectors.gpu alone: set by hand, one of these would
// reach GPUs the scheduler never gave it (NVIDIA_VISIBLE_DEVICES=all on a pod with no GPU
// sees every GPU of its node).
var deviceEnv = []string{
	"NVIDIA_VISIBLE_DEVICES", "NVIDIA_DRIVER_CAPABILITIES", "NVIDIA_MIG_CONFIG_DEVICES", "NVIDIA_MIG_MONITOR_DEVICES",
	"NVIDIA_REQUIRE_", "NVIDIA_DISABLE_REQUIRE", "CUDA_VISIBLE_DEVICES", "CUDA_MPS_", "GPU_DEVICE_ORDINAL",
	"ROCR_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES",
}

// deviceEnvErrors refuses config.env entries that select devices.
func deviceEnvErrors(wl *doradev1.Workload) field.ErrorList {
	if wl.Spec.Config == nil {
		return nil
	}
	var errs field.ErrorList
	for i, e := range wl.Spec.Config.Env {
		name, _, _ := strings.Cut(e, "=")
		for _, d := range deviceEnv {
			if name == d || (strings.HasSuffix(d, "_") && strings.HasPrefix(name, d)) {
				errs = append(errs, field.Forbidden(field.NewPath("spec", "config", "env").Index(i),
					fmt.Sprintf("%s chooses the devices a container sees, and is set from selectors.gpu alone; remove it and ask for GPUs with selectors.gpu.count and product_name", name)))
				break
			}
		}
	}
	return errs
}

// workloadAccess holds the Dora verbs a Workload write needs of its requester: pause or
// resume to flip spec.paused, and use on every volume of another workspace it starts to
// mount. An error is one the requester can act on: it names them, the verb, the object and
// the grant that would allow it.
func (v WorkloadValidator) workloadAccess(ctx context.Context, req admission.Request, wl, old *doradev1.Workload) (field.ErrorList, error) {
	var errs field.ErrorList
	who := req.UserInfo.Username
	if req.Operation == admissionv1.Update && old != nil && old.Spec.Paused != wl.Spec.Paused {
		verb, dora := doradev1.VerbPause, doradev1.DoraVerbPause
		if !wl.Spec.Paused {
			verb, dora = doradev1.VerbResume, doradev1.DoraVerbResume
		}
		ok, err := v.Authorizer.Allowed(ctx, req.UserInfo, authorizationv1.ResourceAttributes{
			Group: doradev1.GroupVersion.Group, Resource: "workloads", Namespace: req.Namespace, Name: wl.Name, Verb: verb,
		})
		if err != nil {
			return nil, err
		}
		if !ok {
			errs = append(errs, field.Forbidden(field.NewPath("spec", "paused"), fmt.Sprintf(
				"%s may not %s workload %s in namespace %s: that needs the Dora verb %s on Workload there (a Role with Workload: [%s], granted to the user for this workspace)",
				who, strings.ToLower(dora), wl.Name, req.Namespace, dora, dora)))
		}
	}
	mounted := map[string]bool{}
	if old != nil {
		for _, vol := range old.Spec.Volumes {
			mounted[podspec.VolumeKey(req.Namespace, vol).String()] = true
		}
	}
	for i, vol := range wl.Spec.Volumes {
		key := podspec.VolumeKey(req.Namespace, vol)
		if key.Namespace == req.Namespace || mounted[key.String()] {
			continue
		}
		ok, err := v.Authorizer.Allowed(ctx, req.UserInfo, authorizationv1.ResourceAttributes{
			Group: doradev1.GroupVersion.Group, Resource: "volumes", Namespace: key.Namespace, Name: key.Name, Verb: doradev1.VerbUse,
		})
		if err != nil {
			return nil, err
		}
		if !ok {
			ws := podspec.VolumeWorkspace(vol)
			errs = append(errs, field.Forbidden(field.NewPath("spec", "volumes").Index(i), fmt.Sprintf(
				"%s may not use volume %s of workspace %s: mounting another workspace's volume needs the Dora verb Use on Volume in workspace %s (a User grant with workspace: %s and a Role with Volume: [Use])",
				who, key.Name, ws, ws, ws)))
		}
	}
	return errs, nil
}
