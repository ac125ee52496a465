-- Argo CD health check of a Dora Workload (dora.dev/v1alpha1).
-- Argo CD gives a health script the object as `obj` and Lua's base and table libraries,
-- not the string library: this script uses neither string functions nor os.
local hs = {}

local function condition(t)
  if obj.status ~= nil and obj.status.conditions ~= nil then
    for _, c in ipairs(obj.status.conditions) do
      if c.type == t then
        return c
      end
    end
  end
  return nil
end

local function isTrue(c)
  return c ~= nil and c.status == "True"
end

local function message(c, default)
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    return c.message
  end
  return default
end

-- spec.paused removes the pods: Suspended at once, as Argo CD says of a paused Deployment.
if obj.spec ~= nil and obj.spec.paused == true then
  local paused = condition("Paused")
  hs.status = "Suspended"
  if isTrue(paused) then
    hs.message = message(paused, "spec.paused is true")
  else
    hs.message = "spec.paused is true: the workload's pods are being removed"
  end
  return hs
end

if obj.status == nil or obj.status.observedGeneration == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the Dora manager to report on the workload"
  return hs
end
if obj.metadata.generation ~= nil and obj.status.observedGeneration ~= obj.metadata.generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the Dora manager to act on generation " .. obj.metadata.generation
  return hs
end

local paused = condition("Paused")
if isTrue(paused) then
  hs.status = "Suspended"
  hs.message = message(paused, "the workload is paused")
  return hs
end

-- Held while its owner's weekly credits are spent: the pods are removed until the reset.
local credits = condition("CreditsExhausted")
if isTrue(credits) then
  hs.status = "Suspended"
  hs.message = message(credits, "the owner's weekly credits are spent")
  return hs
end

-- Stalled: the manager cannot get the workload to its spec without someone changing
-- something (pods or a NodePort the API server refuses, replicas that failed for good).
local stalled = condition("Stalled")
if isTrue(stalled) then
  hs.status = "Degraded"
  hs.message = message(stalled, "the workload is stalled")
  return hs
end

-- Managers that wrote no Stalled condition say the same through Ready's reason.
local ready = condition("Ready")
local failed = { Failed = true, PodsRefused = true, PortUnavailable = true, HostNetworkNotAllowed = true }
if ready ~= nil and ready.status == "False" and failed[ready.reason] then
  hs.status = "Degraded"
  hs.message = message(ready, ready.reason)
  return hs
end

local reconciling = condition("Reconciling")
if isTrue(reconciling) then
  hs.status = "Progressing"
  hs.message = message(reconciling, "the manager is creating, replacing or removing pods")
  return hs
end

if isTrue(ready) then
  hs.status = "Healthy"
  hs.message = message(ready, "every replica is ready")
  return hs
end

-- Pending, Queued (waiting for hardware), waiting for a volume: all on their way.
hs.status = "Progressing"
hs.message = message(ready, "Waiting for the workload's replicas")
return hs
