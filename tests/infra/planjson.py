"""Small readers of `terraform show -json` plan documents for the tests."""


def changes(plan, rtype=None):
    """Managed resources the plan creates, optionally of one type."""
    out = []
    for rc in plan["resource_changes"]:
        if rc["mode"] != "managed":
            continue
        if rtype is not None and rc["type"] != rtype:
            continue
        out.append(rc)
    return out


def afters(plan, rtype):
    """The planned attribute values of every resource of one type."""
    return [rc["change"]["after"] for rc in changes(plan, rtype)]


def unknown(plan, rtype):
    """after_unknown of every resource of one type."""
    return [rc["change"]["after_unknown"] for rc in changes(plan, rtype)]


def count(plan, rtype):
    return len(changes(plan, rtype))


def by_address(plan, suffix):
    """The one resource change whose address ends with suffix."""
    found = [rc for rc in plan["resource_changes"] if rc["address"].endswith(suffix)]
    assert len(found) == 1, f"{len(found)} resources match '{suffix}'"
    return found[0]


def module_config(plan, *path):
    """The configuration of a module: module_config(plan, "api_service")."""
    mod = plan["configuration"]["root_module"]
    for name in path:
        mod = mod["module_calls"][name]["module"]
    return mod


def config_resource(plan, address, *path):
    """Configuration block (expressions) of a resource by its address in a module."""
    for r in module_config(plan, *path).get("resources", []):
        if r["address"] == address:
            return r
    raise AssertionError(f"no resource '{address}' in module {'/'.join(path) or 'root'}")


def all_config_resources(plan):
    """(module path, resource config) of every resource in every module."""
    out = []

    def walk(mod, path):
        for r in mod.get("resources", []):
            out.append((path, r))
        for name, call in mod.get("module_calls", {}).items():
            walk(call["module"], path + (name,))

    walk(plan["configuration"]["root_module"], ())
    return out


def references(expr):
    return expr.get("references", []) if isinstance(expr, dict) else []


def output_value(plan, name):
    return plan["planned_values"]["outputs"][name].get("value")
