using System.Text.RegularExpressions;

namespace FunctionApp.Tests.Deployment;

/// <summary>
/// Every role assignment of the compiled template, for least privilege: which principal gets which built-in role on
/// which scope, and under which condition. An extra, missing, widened or mistyped assignment fails.
/// </summary>
[Collection(CompiledTemplatesCollection.Name)]
public sealed partial class CompiledRoleAssignmentTests(CompiledTemplates templates)
{
    private const string StorageAccount = "Microsoft.Storage/storageAccounts";
    private const string Queue = "Microsoft.ServiceBus/namespaces/queues";
    private const string ApplicationInsights = "Microsoft.Insights/components";
    private const string Secret = "Microsoft.KeyVault/vaults/secrets";

    /// <summary>Azure built-in role definition ids (the same in every tenant), by role name.</summary>
    private static readonly Dictionary<string, string> BuiltInRoles = new(StringComparer.OrdinalIgnoreCase)
    {
        ["b7e6dc6d-f1e8-4753-8033-0f276bb0955b"] = "Storage Blob Data Owner",
        ["0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"] = "Storage Table Data Contributor",
        ["76199698-9eea-4c19-bc75-cec21354c6b6"] = "Storage Table Data Reader",
        ["69a216fc-b8fb-44d8-bc22-1f3c2cd27a39"] = "Azure Service Bus Data Sender",
        ["4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0"] = "Azure Service Bus Data Receiver",
        ["090c5cfd-751d-490a-894a-3ce6f1109419"] = "Azure Service Bus Data Owner",
        ["3913510d-42f4-4e42-8a64-420c390055eb"] = "Monitoring Metrics Publisher",
        ["4633458b-17de-408a-b874-0445c86b69e6"] = "Key Vault Secrets User",
    };

    [Fact]
    public void Assignments_are_exactly_the_least_privilege_set()
    {
        Assignment[] expected =
        [
            // The host keeps keys, leases and the package in blobs; the app and the host use tables.
            new("appPrincipalId", "Storage Blob Data Owner", StorageAccount, Condition: null),
            new("appPrincipalId", "Storage Table Data Contributor", StorageAccount, Condition: null),
            // The queue only, never the namespace.
            new("appPrincipalId", "Azure Service Bus Data Sender", Queue, Condition: null),
            new("appPrincipalId", "Azure Service Bus Data Receiver", Queue, Condition: null),
            new("appPrincipalId", "Azure Service Bus Data Owner", Queue, Condition: "[parameters('grantQueueManageForScaling')]"),
            new("appPrincipalId", "Monitoring Metrics Publisher", ApplicationInsights, Condition: null),
            // Each callback secret on its own, never the vault: the OpenIM key, and one per Tencent app's token.
            new("appPrincipalId", "Key Vault Secrets User", Secret, Condition: null),
            new("appPrincipalId", "Key Vault Secrets User", Secret, Condition: null, Loop: "[length(parameters('tencentAppIds'))]"),
            // The reconciliation secrets the same way: OpenIM's admin secret when OpenIM is reconciled, one per reconciled Tencent app's secret key.
            new("appPrincipalId", "Key Vault Secrets User", Secret, Condition: "[parameters('openImReconciled')]"),
            new("appPrincipalId", "Key Vault Secrets User", Secret, Condition: null, Loop: "[length(parameters('tencentReconcileAppIds'))]"),
            // Read-only operator access, only when an operator is named.
            new("operatorPrincipalId", "Storage Table Data Reader", StorageAccount, Condition: "[not(empty(parameters('operatorPrincipalId')))]"),
            new("operatorPrincipalId", "Azure Service Bus Data Receiver", Queue, Condition: "[not(empty(parameters('operatorPrincipalId')))]"),
        ];

        Assert.Equal(
            expected.OrderBy(assignment => assignment.ToString(), StringComparer.Ordinal),
            Assignments().OrderBy(assignment => assignment.ToString(), StringComparer.Ordinal));
    }

    [Fact]
    public void Assignment_names_are_deterministic_per_scope_principal_and_role()
    {
        // guid(scope, principal, role): a redeployment finds the same assignment instead of adding a duplicate.
        foreach (var resource in RoleAssignments())
        {
            var scope = ScopeResourceId().Match(resource.Scope ?? "").Value;
            var principal = resource.Properties.GetProperty("principalId").GetString()!;
            var role = RoleReference().Match(resource.Properties.GetProperty("roleDefinitionId").GetString()!).Value;
            Assert.Equal($"[guid({scope}, {principal[1..^1]}, {role})]", resource.Name);
        }
    }

    [Fact]
    public void Principals_are_the_app_identity_and_the_named_operator()
    {
        var main = templates.Main;
        Assert.Equal("[reference('identity').outputs.principalId.value]", main.ModuleArgument("roles", "appPrincipalId").GetString());
        Assert.Equal("[parameters('operatorPrincipalId')]", main.ModuleArgument("roles", "operatorPrincipalId").GetString());

        foreach (var resource in RoleAssignments())
        {
            var principalType = resource.Properties.GetProperty("principalType").GetString();
            var expected = resource.Properties.GetProperty("principalId").GetString() == "[parameters('appPrincipalId')]"
                ? "ServicePrincipal"
                : "[parameters('operatorPrincipalType')]";
            Assert.Equal(expected, principalType);
        }
    }

    private List<ArmResource> RoleAssignments() =>
        [.. templates.Main.Module("roles").ResourcesOf("Microsoft.Authorization/roleAssignments")];

    private List<Assignment> Assignments()
    {
        var roles = templates.Main.Module("roles");
        var assignments = new List<Assignment>();
        foreach (var resource in RoleAssignments())
        {
            // A loop only where the scopes are themselves a list (one secret per Tencent app); it is part of the expected set.
            var loop = resource.Element.TryGetProperty("copy", out var copy) ? copy.GetProperty("count").GetString() : null;
            var principal = ArmTemplate.ParameterReadBy(resource.Properties.GetProperty("principalId").GetString())
                ?? throw new Xunit.Sdk.XunitException($"{resource}: the principal is not a parameter.");

            var roleDefinition = resource.Properties.GetProperty("roleDefinitionId").GetString()!;
            var roleMatch = RoleReference().Match(roleDefinition);
            Assert.True(roleMatch.Success && roleDefinition.StartsWith("[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', ", StringComparison.Ordinal),
                $"{resource}: role definition {roleDefinition} is not a built-in role from the roles table.");
            var roleId = roles.Variable(roleMatch.Groups["variable"].Value).GetProperty(roleMatch.Groups["key"].Value).GetString()!;
            Assert.True(BuiltInRoles.TryGetValue(roleId, out var roleName), $"{resource}: {roleId} is not a built-in role this app needs.");

            var scope = ScopeResourceId().Match(resource.Scope ?? "");
            Assert.True(scope.Success, $"{resource}: scope {resource.Scope} is not a resource of this deployment.");
            assignments.Add(new Assignment(principal, roleName, scope.Groups["type"].Value, resource.Condition, loop));
        }

        return assignments;
    }

    private sealed record Assignment(string Principal, string Role, string ScopeType, string? Condition, string? Loop = null)
    {
        public override string ToString() =>
            $"{Principal}: {Role} on {ScopeType}{(Condition is null ? "" : $" if {Condition}")}{(Loop is null ? "" : $" for each of {Loop}")}";
    }

    [GeneratedRegex(@"variables\('(?<variable>[^']+)'\)\.(?<key>\w+)")]
    private static partial Regex RoleReference();

    /// <summary>A resource of this deployment, named by parameters and the module's own constants (for one loop item, too).</summary>
    [GeneratedRegex(@"resourceId\('(?<type>[^']+)'(, (parameters\('\w+'\)|variables\('\w+'\)\.\w+|format\('\{0\}\{1\}', variables\('\w+'\)\.\w+, parameters\('\w+'\)\[copyIndex\(\)\]\)))+\)")]
    private static partial Regex ScopeResourceId();
}
