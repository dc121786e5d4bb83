using System.Text.Json;

namespace FunctionApp.Tests.Deployment;

/// <summary>
/// The vault that holds the callback and reconciliation secrets: Azure RBAC only (no access policies), soft delete
/// with purge protection, one secret per secret the app reads, written from the secure parameters and nothing else.
/// </summary>
[Collection(CompiledTemplatesCollection.Name)]
public sealed class CompiledKeyVaultTests(CompiledTemplates templates)
{
    [Fact]
    public void Vault_authorizes_with_rbac_only_and_keeps_deleted_secrets()
    {
        var vault = templates.Main.Module("keyVault").Resource("Microsoft.KeyVault/vaults").Properties;
        Assert.True(vault.GetProperty("enableRbacAuthorization").GetBoolean());
        Assert.Empty(vault.GetProperty("accessPolicies").EnumerateArray());
        Assert.True(vault.GetProperty("enableSoftDelete").GetBoolean());
        Assert.InRange(vault.GetProperty("softDeleteRetentionInDays").GetInt32(), 7, 90);
        Assert.True(vault.GetProperty("enablePurgeProtection").GetBoolean());
        // No other Azure service may read secrets out of it on a deployment's behalf.
        Assert.False(vault.GetProperty("enabledForDeployment").GetBoolean());
        Assert.False(vault.GetProperty("enabledForDiskEncryption").GetBoolean());
        Assert.False(vault.GetProperty("enabledForTemplateDeployment").GetBoolean());
    }

    [Fact]
    public void Secrets_are_the_callback_secrets_from_the_secure_parameters()
    {
        var vault = templates.Main.Module("keyVault");
        Assert.Equal(4, vault.ResourcesOf("Microsoft.KeyVault/vaults/secrets").Count);

        var openIm = SecretNamed(vault, "[format('{0}/{1}', parameters('name'), variables('callbackSecretNames').openImCallbackKey)]");
        Assert.Null(openIm.Condition);
        Assert.False(openIm.Element.TryGetProperty("copy", out _));
        Assert.Equal("[parameters('openImCallbackKey')]", openIm.Properties.GetProperty("value").GetString());

        var tencent = SecretNamed(vault,
            "[format('{0}/{1}', parameters('name'), format('{0}{1}', variables('callbackSecretNames').tencentCallbackTokenPrefix, items(parameters('tencentCallbackTokens'))[copyIndex()].key))]");
        Assert.Equal("[length(items(parameters('tencentCallbackTokens')))]", tencent.Element.GetProperty("copy").GetProperty("count").GetString());
        Assert.Equal("[items(parameters('tencentCallbackTokens'))[copyIndex()].value]", tencent.Properties.GetProperty("value").GetString());

        // The module's inputs are the secure parameters, with the same length rules as main's.
        Assert.Equal("securestring", vault.Parameter("openImCallbackKey").GetProperty("type").GetString());
        Assert.Equal(
            templates.Main.Parameter("openImCallbackKey").GetProperty("minLength").GetInt32(),
            vault.Parameter("openImCallbackKey").GetProperty("minLength").GetInt32());
        var mainTokens = templates.Main.DefinitionOf(templates.Main.Parameter("tencentCallbackTokens"));
        var vaultTokens = vault.DefinitionOf(vault.Parameter("tencentCallbackTokens"));
        Assert.Equal(mainTokens.GetProperty("type").GetString(), vaultTokens.GetProperty("type").GetString());
        Assert.True(JsonElement.DeepEquals(mainTokens.GetProperty("additionalProperties"), vaultTokens.GetProperty("additionalProperties")));
        Assert.Equal("[parameters('openImCallbackKey')]", templates.Main.ModuleArgument("keyVault", "openImCallbackKey").GetString());
        Assert.Equal("[parameters('tencentCallbackTokens')]", templates.Main.ModuleArgument("keyVault", "tencentCallbackTokens").GetString());

        // Secret names: letters, digits and hyphens; an SdkAppid is digits.
        var names = vault.Variable("callbackSecretNames");
        Assert.All(names.EnumerateObject(), name => Assert.Matches("^[a-z][a-z0-9-]*$", name.Value.GetString()));
    }

    [Fact]
    public void Reconciliation_secrets_are_stored_from_the_secure_parameters()
    {
        var vault = templates.Main.Module("keyVault");

        // OpenIM's admin secret only when OpenIM is reconciled, which main decides from the API URL it then requires.
        var openIm = SecretNamed(vault, "[format('{0}/{1}', parameters('name'), variables('callbackSecretNames').openImAdminSecret)]");
        Assert.Equal("[parameters('openImReconciled')]", openIm.Condition);
        Assert.Equal("[parameters('openImAdminSecret')]", openIm.Properties.GetProperty("value").GetString());
        Assert.Equal("securestring", vault.Parameter("openImAdminSecret").GetProperty("type").GetString());
        Assert.Equal("[parameters('openImAdminSecret')]", templates.Main.ModuleArgument("keyVault", "openImAdminSecret").GetString());
        Assert.Equal("[variables('openImReconciled')]", templates.Main.ModuleArgument("keyVault", "openImReconciled").GetString());
        Assert.Equal("[not(empty(variables('openImReconcileApiUrl')))]", templates.Main.Variable("openImReconciled").GetString());
        Assert.Equal(
            "[if(or(empty(parameters('openImApiUrl')), not(empty(parameters('openImAdminSecret')))), parameters('openImApiUrl'), fail('openImAdminSecret (OPENIM_ADMIN_SECRET) is required with openImApiUrl.'))]",
            templates.Main.Variable("openImReconcileApiUrl").GetString());

        // One secret per reconciled Tencent app holding its secret key only, named after its SdkAppid once checked to be digits.
        var tencent = SecretNamed(vault,
            "[format('{0}/{1}', parameters('name'), format('{0}{1}', variables('callbackSecretNames').tencentReconcileSecretKeyPrefix, __bicep.checkedSdkAppid(items(parameters('tencentReconcileApps'))[copyIndex()].key)))]");
        Assert.Equal("[length(items(parameters('tencentReconcileApps')))]", tencent.Element.GetProperty("copy").GetProperty("count").GetString());
        Assert.Equal("[items(parameters('tencentReconcileApps'))[copyIndex()].value.secretKey]", tencent.Properties.GetProperty("value").GetString());
        var mainApps = templates.Main.DefinitionOf(templates.Main.Parameter("tencentReconcileApps"));
        var vaultApps = vault.DefinitionOf(vault.Parameter("tencentReconcileApps"));
        Assert.Equal("secureObject", vaultApps.GetProperty("type").GetString());
        Assert.Equal(mainApps.GetProperty("type").GetString(), vaultApps.GetProperty("type").GetString());
        Assert.Equal("[parameters('tencentReconcileApps')]", templates.Main.ModuleArgument("keyVault", "tencentReconcileApps").GetString());
        Assert.Equal(
            "[map(objectKeys(parameters('tencentReconcileApps')), lambda('appId', __bicep.checkedSdkAppid(lambdaVariables('appId'))))]",
            templates.Main.Variable("tencentReconcileAppIds").GetString());
    }

    [Theory]
    [InlineData("1400000001", true)]
    [InlineData("0", true)]
    [InlineData("", false)]
    [InlineData("14000x", false)]
    [InlineData("1400-01", false)]
    [InlineData("1400_01", false)]
    [InlineData("1400.01", false)]
    [InlineData(" 1400", false)]
    [InlineData("\u0661\u0664", false)]
    public async Task Only_digits_pass_as_an_sdk_appid(string appId, bool accepted)
    {
        // The check (infra/app/types.bicep) evaluated by the pinned compiler in a scratch parameters file.
        var folder = Directory.CreateTempSubdirectory("bicep-sdkappid-").FullName;
        try
        {
            File.Copy(Path.Combine(DeploymentFiles.RepositoryRoot, "infra", "app", "types.bicep"), Path.Combine(folder, "types.bicep"));
            await File.WriteAllTextAsync(Path.Combine(folder, "check.bicep"), "param accepted bool\noutput accepted bool = accepted\n");
            await File.WriteAllTextAsync(Path.Combine(folder, "check.bicepparam"),
                $"using 'check.bicep'\nimport {{ isSdkAppid }} from 'types.bicep'\nparam accepted = isSdkAppid('{appId}')\n");

            var run = await BicepCompiler.RunAsync(["build-params", Path.Combine(folder, "check.bicepparam"), "--stdout"]);

            Assert.True(run.ExitCode == 0, run.Output);
            using var output = JsonDocument.Parse(run.StandardOutput);
            using var parameters = JsonDocument.Parse(output.RootElement.GetProperty("parametersJson").GetString()!);
            Assert.Equal(accepted, parameters.RootElement.GetProperty("parameters").GetProperty("accepted").GetProperty("value").GetBoolean());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Roles_name_the_same_secrets_the_vault_holds()
    {
        var roles = templates.Main.Module("roles");
        Assert.True(JsonElement.DeepEquals(templates.Main.Module("keyVault").Variable("callbackSecretNames"), roles.Variable("callbackSecretNames")));
        Assert.Equal("[variables('names').keyVault]", templates.Main.ModuleArgument("roles", "keyVaultName").GetString());
        Assert.Equal("[variables('names').keyVault]", templates.Main.ModuleArgument("keyVault", "name").GetString());
        Assert.Equal("[variables('tencentAppIds')]", templates.Main.ModuleArgument("roles", "tencentAppIds").GetString());
        var tencentSecrets = Assert.Single(roles.Resources, resource => resource.SymbolicName == "tencentCallbackTokens");
        Assert.Equal("[length(parameters('tencentAppIds'))]", tencentSecrets.Element.GetProperty("copy").GetProperty("count").GetString());

        Assert.Equal("[variables('tencentReconcileAppIds')]", templates.Main.ModuleArgument("roles", "tencentReconcileAppIds").GetString());
        Assert.Equal("[variables('openImReconciled')]", templates.Main.ModuleArgument("roles", "openImReconciled").GetString());
        var reconcileSecrets = Assert.Single(roles.Resources, resource => resource.SymbolicName == "tencentReconcileSecretKeys");
        Assert.Equal("[length(parameters('tencentReconcileAppIds'))]", reconcileSecrets.Element.GetProperty("copy").GetProperty("count").GetString());
        Assert.Equal(
            "[format('{0}/{1}', parameters('keyVaultName'), format('{0}{1}', variables('callbackSecretNames').tencentReconcileSecretKeyPrefix, parameters('tencentReconcileAppIds')[copyIndex()]))]",
            reconcileSecrets.Name);
    }

    private static ArmResource SecretNamed(ArmTemplate vault, string name) =>
        Assert.Single(vault.ResourcesOf("Microsoft.KeyVault/vaults/secrets"), secret => secret.Name == name);
}
