-- Argo CD health check of a Dora Workspace (dora.dev/v1alpha1).
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

-- Being taken down, step by step (Argo CD itself says "Pending deletion" before asking).
local deleting = condition("Deleting")
if isTrue(deleting) then
  hs.status = "Progressing"
  hs.message = message(deleting, "the workspace is being deleted")
  return hs
end

if obj.status == nil or obj.status.observedGeneration == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the Dora manager to report on the workspace"
  return hs
end
if obj.metadata.generation ~= nil and obj.status.observedGeneration ~= obj.metadata.generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the Dora manager to act on generation " .. obj.metadata.generation
  return hs
end

-- Stalled: the namespace is someone else's, or the clone failed.
local stalled = condition("Stalled")
if isTrue(stalled) then
  hs.status = "Degraded"
  hs.message = message(stalled, "the workspace is stalled")
  return hs
end
-- Managers that wrote no Stalled condition say the same through the conditions' reasons.
local namespace = condition("NamespaceReady")
if namespace ~= nil and namespace.reason == "NamespaceClash" then
  hs.status = "Degraded"
  hs.message = message(namespace, "the namespace belongs to something else")
  return hs
end
local cloned = condition("Cloned")
if cloned ~= nil and cloned.reason == "CloneFailed" then
  hs.status = "Degraded"
  hs.message = message(cloned, "the clone failed")
  return hs
end

local reconciling = condition("Reconciling")
if isTrue(reconciling) then
  hs.status = "Progressing"
  hs.message = message(reconciling, "the clone is copying its source")
  return hs
end
if cloned ~= nil and cloned.status ~= "True" then
  hs.status = "Progressing"
  hs.message = message(cloned, "the clone is copying its source")
  return hs
end

local ready = condition("Ready")
if isTrue(ready) then
  hs.status = "Healthy"
  if isTrue(cloned) then
    hs.message = message(cloned, "the clone is complete")
  else
    hs.message = message(ready, "the workspace's namespace is ready")
  end
  return hs
end

-- The namespace is being made, or an old one of the name is still going.
hs.status = "Progressing"
hs.message = message(ready, "Waiting for the workspace's namespace")
return hs
