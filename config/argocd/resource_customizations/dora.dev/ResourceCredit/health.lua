-- Argo CD health check of a Dora ResourceCredit (dora.dev/v1alpha1).
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

if obj.status == nil or obj.status.observedGeneration == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the Dora manager to read the price"
  return hs
end
if obj.metadata.generation ~= nil and obj.status.observedGeneration ~= obj.metadata.generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the Dora manager to act on generation " .. obj.metadata.generation
  return hs
end

local ready = condition("Ready")
if ready == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the Dora manager to read the price"
  return hs
end
if ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message
  return hs
end
-- DuplicateProduct (an older ResourceCredit prices the product and this one is ignored)
-- or InvalidPrice: neither changes until someone edits or deletes a ResourceCredit.
hs.status = "Degraded"
hs.message = ready.message
return hs
