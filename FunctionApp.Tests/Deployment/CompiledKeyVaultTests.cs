using System.Text.Json;

namespace FunctionApp.Tests.Deployment;

/// <summary>
/// The vault that holds the callback secrets: Azure RBAC only (no access policies), soft delete with purge
/// protection, one secret per callback secret, written from the secure parameters and nothing else.
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
        var secrets = vault.ResourcesOf("Microsoft.KeyVault/vaults/secrets");
        Assert.Equal(2, secrets.Count);

        var openIm = Assert.Single(secrets, secret => secret.Condition is null && !secret.Element.TryGetProperty("copy", out _));
        Assert.Equal("[format('{0}/{1}', parameters('name'), variables('callbackSecretNames').openImCallbackKey)]", openIm.Name);
        Assert.Equal("[parameters('openImCallbackKey')]", openIm.Properties.GetProperty("value").GetString());

        var tencent = Assert.Single(secrets, secret => secret.Element.TryGetProperty("copy", out _));
        Assert.Equal("[length(items(parameters('tencentCallbackTokens')))]", tencent.Element.GetProperty("copy").GetProperty("count").GetString());
        Assert.Equal(
            "[format('{0}/{1}', parameters('name'), format('{0}{1}', variables('callbackSecretNames').tencentCallbackTokenPrefix, items(parameters('tencentCallbackTokens'))[copyIndex()].key))]",
            tencent.Name);
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
    public void Roles_name_the_same_secrets_the_vault_holds()
    {
        var roles = templates.Main.Module("roles");
        Assert.True(JsonElement.DeepEquals(templates.Main.Module("keyVault").Variable("callbackSecretNames"), roles.Variable("callbackSecretNames")));
        Assert.Equal("[variables('names').keyVault]", templates.Main.ModuleArgument("roles", "keyVaultName").GetString());
        Assert.Equal("[variables('names').keyVault]", templates.Main.ModuleArgument("keyVault", "name").GetString());
        Assert.Equal("[variables('tencentAppIds')]", templates.Main.ModuleArgument("roles", "tencentAppIds").GetString());
        var tencentSecrets = Assert.Single(roles.Resources, resource => resource.SymbolicName == "tencentCallbackTokens");
        Assert.Equal("[length(parameters('tencentAppIds'))]", tencentSecrets.Element.GetProperty("copy").GetProperty("count").GetString());
    }
}
