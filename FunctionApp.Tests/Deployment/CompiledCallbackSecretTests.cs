using System.Text.Json;

namespace FunctionApp.Tests.Deployment;

/// <summary>
/// The callback secrets are required and long enough: the OpenIM key and every Tencent token are at least
/// <see cref="MinimumSecretLength"/> characters, checked by the compiler on main.bicepparam and by Azure Resource
/// Manager on the compiled template, so no deployment accepts unsigned callbacks.
/// </summary>
[Collection(CompiledTemplatesCollection.Name)]
public sealed class CompiledCallbackSecretTests(CompiledTemplates templates)
{
    /// <summary>The app's own minimum key length; Tencent allows tokens of up to 128 characters.</summary>
    private const int MinimumSecretLength = 16;
    private const int MaximumSecretLength = 128;

    [Theory]
    [InlineData(null)]
    [InlineData("keyVault")]
    public void Open_im_key_is_a_required_secure_string_of_at_least_the_minimum_length(string? module)
    {
        var template = module is null ? templates.Main : templates.Main.Module(module);
        var key = template.Parameter("openImCallbackKey");
        Assert.Equal("securestring", key.GetProperty("type").GetString());
        Assert.Equal(MinimumSecretLength, key.GetProperty("minLength").GetInt32());
        Assert.Equal(MaximumSecretLength, key.GetProperty("maxLength").GetInt32());
        // No default: a deployment that forgets the key stops instead of accepting keyless callbacks.
        Assert.False(key.TryGetProperty("defaultValue", out _), "openImCallbackKey has a default.");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("keyVault")]
    public void Every_tencent_token_is_a_secure_string_of_at_least_the_minimum_length(string? module)
    {
        var template = module is null ? templates.Main : templates.Main.Module(module);
        var tokens = template.DefinitionOf(template.Parameter("tencentCallbackTokens"));
        Assert.Equal("secureObject", tokens.GetProperty("type").GetString());
        Assert.Empty(tokens.GetProperty("properties").EnumerateObject());
        var token = tokens.GetProperty("additionalProperties");
        Assert.Equal("string", token.GetProperty("type").GetString());
        Assert.Equal(MinimumSecretLength, token.GetProperty("minLength").GetInt32());
        Assert.Equal(MaximumSecretLength, token.GetProperty("maxLength").GetInt32());
    }

    [Fact]
    public void Parameters_file_stops_without_the_open_im_key_or_with_an_empty_tencent_token()
    {
        var run = templates.BuildParametersUnsigned;
        Assert.NotEqual(0, run.ExitCode);
        var lines = run.Output.Split('\n');
        Assert.Contains(lines, line => line.Contains(CompiledTemplates.ParametersFile.Split('/')[^1], StringComparison.Ordinal)
            && line.Contains("BCP427", StringComparison.Ordinal)
            && line.Contains(CompiledTemplates.RequiredSecretVariable, StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains("BCP333", StringComparison.Ordinal)
            && line.Contains($"minimum allowable length is {MinimumSecretLength}", StringComparison.Ordinal));
    }

    [Fact]
    public void Sample_secrets_are_long_enough_to_deploy()
    {
        using var tokens = JsonDocument.Parse(CompiledTemplates.SecretVariables["TENCENT_CALLBACK_TOKENS"]);
        Assert.All(tokens.RootElement.EnumerateObject(), token => Assert.InRange(token.Value.GetString()!.Length, MinimumSecretLength, MaximumSecretLength));
        Assert.InRange(CompiledTemplates.SecretVariables[CompiledTemplates.RequiredSecretVariable].Length, MinimumSecretLength, MaximumSecretLength);
    }
}
