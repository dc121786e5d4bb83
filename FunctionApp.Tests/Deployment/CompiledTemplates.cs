using System.Text.Json;
using System.Text.RegularExpressions;

namespace FunctionApp.Tests.Deployment;

/// <summary>
/// Compiles and lints <c>infra/</c> once for every test class in <see cref="CompiledTemplatesCollection"/>:
/// <c>bicep build</c> of main.bicep, <c>bicep build-params</c> of main.bicepparam (with only the required secret set,
/// with every secret set to sample values, and with the required one missing and a Tencent token empty), and
/// <c>bicep lint</c> of every template and parameter file.
/// </summary>
public sealed class CompiledTemplates : IAsyncLifetime
{
    public const string MainTemplate = "infra/main.bicep";
    public const string ParametersFile = "infra/main.bicepparam";

    /// <summary>Environment variables main.bicepparam reads the secrets from, with a sample value each.</summary>
    public static readonly IReadOnlyDictionary<string, string> SecretVariables = new Dictionary<string, string>
    {
        ["TENCENT_CALLBACK_TOKENS"] = """{"1400000001":"sample-token-0001-abcd","1400000002":"sample-token-0002-abcd"}""",
        ["OPENIM_CALLBACK_KEY"] = "sample-openim-key-0123456789",
        ["TENCENT_RECONCILE_APPS"] = """{"1400000001":{"secretKey":"sample-secret-key-0001","domain":"adminapisgp.im.qcloud.com"}}""",
        ["OPENIM_ADMIN_SECRET"] = "sample-openim-admin-secret",
        ["OPERATOR_PRINCIPAL_ID"] = "00000000-0000-0000-0000-0000000000aa",
    };

    private readonly string _outputFolder = Directory.CreateTempSubdirectory("bicep-build-").FullName;
    /// <summary>The one secret main.bicepparam requires.</summary>
    public const string RequiredSecretVariable = "OPENIM_CALLBACK_KEY";

    /// <summary>A Tencent token object with an empty token, which the template must refuse.</summary>
    public const string UnsignedTencentApp = """{"1400000001":""}""";

    private JsonDocument? _main;
    private JsonDocument? _parameters;
    private JsonDocument? _parametersWithSecrets;

    public BicepRun Version { get; private set; } = null!;
    public BicepRun Build { get; private set; } = null!;
    public BicepRun BuildParameters { get; private set; } = null!;
    public BicepRun BuildParametersWithSecrets { get; private set; } = null!;

    /// <summary><c>build-params</c> with <see cref="RequiredSecretVariable"/> unset and <see cref="UnsignedTencentApp"/>.</summary>
    public BicepRun BuildParametersUnsigned { get; private set; } = null!;
    public BicepRun Lint { get; private set; } = null!;

    /// <summary>The compiled ARM template of main.bicep (modules are nested deployments inside it).</summary>
    public ArmTemplate Main => new((_main ?? throw NotBuilt()).RootElement);

    /// <summary><c>parameters</c> of the compiled main.bicepparam with only <see cref="RequiredSecretVariable"/> set.</summary>
    public JsonElement Parameters => (_parameters ?? throw NotBuilt()).RootElement.GetProperty("parameters");

    /// <summary><c>parameters</c> of the compiled main.bicepparam with every <see cref="SecretVariables"/> set.</summary>
    public JsonElement ParametersWithSecrets => (_parametersWithSecrets ?? throw NotBuilt()).RootElement.GetProperty("parameters");

    public async Task InitializeAsync()
    {
        var withoutSecrets = SecretVariables.Keys.ToDictionary(name => name, _ => (string?)null);
        var requiredOnly = new Dictionary<string, string?>(withoutSecrets) { [RequiredSecretVariable] = SecretVariables[RequiredSecretVariable] };
        var unsigned = new Dictionary<string, string?>(withoutSecrets) { ["TENCENT_CALLBACK_TOKENS"] = UnsignedTencentApp };
        var withSecrets = SecretVariables.ToDictionary(variable => variable.Key, variable => (string?)variable.Value);
        var mainJson = Path.Combine(_outputFolder, "main.json");
        var parametersJson = Path.Combine(_outputFolder, "main.parameters.json");
        var parametersWithSecretsJson = Path.Combine(_outputFolder, "main.parameters.secrets.json");

        Version = await BicepCompiler.RunAsync(["--version"]);
        Build = await BicepCompiler.RunAsync(["build", MainTemplate, "--outfile", mainJson]);
        BuildParameters = await BicepCompiler.RunAsync(["build-params", ParametersFile, "--outfile", parametersJson], requiredOnly);
        BuildParametersWithSecrets = await BicepCompiler.RunAsync(["build-params", ParametersFile, "--outfile", parametersWithSecretsJson], withSecrets);
        BuildParametersUnsigned = await BicepCompiler.RunAsync(["build-params", ParametersFile, "--stdout"], unsigned);
        // Linting main.bicep alone reports a module's errors only as "the referenced module has errors" and its
        // warnings not at all, so every file is linted.
        Lint = await BicepCompiler.RunAsync(["lint", "--pattern", "infra/**/*.bicep*"], requiredOnly);

        _main = ReadIfBuilt(Build, mainJson);
        _parameters = ReadIfBuilt(BuildParameters, parametersJson);
        _parametersWithSecrets = ReadIfBuilt(BuildParametersWithSecrets, parametersWithSecretsJson);
    }

    public Task DisposeAsync()
    {
        _main?.Dispose();
        _parameters?.Dispose();
        _parametersWithSecrets?.Dispose();
        try
        {
            Directory.Delete(_outputFolder, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }

        return Task.CompletedTask;
    }

    private static JsonDocument? ReadIfBuilt(BicepRun run, string path) =>
        run.ExitCode == 0 && File.Exists(path) ? JsonDocument.Parse(File.ReadAllText(path)) : null;

    private InvalidOperationException NotBuilt() =>
        new($"infra/ did not compile:\n{Build.Output}\n{BuildParameters.Output}\n{BuildParametersWithSecrets.Output}");
}

[CollectionDefinition(Name)]
public sealed class CompiledTemplatesCollection : ICollectionFixture<CompiledTemplates>
{
    public const string Name = "Compiled Bicep templates";
}

/// <summary>
/// Read access to a compiled ARM template. Bicep writes <c>resources</c> as an array, or (language version 2.0)
/// as an object keyed by symbolic name; both read the same here.
/// </summary>
public sealed partial class ArmTemplate(JsonElement root)
{
    public JsonElement Root { get; } = root;

    public IReadOnlyList<ArmResource> Resources =>
        Root.GetProperty("resources") is { ValueKind: JsonValueKind.Object } byName
            ? [.. byName.EnumerateObject().Select(resource => new ArmResource(resource.Name, resource.Value))]
            : [.. Root.GetProperty("resources").EnumerateArray().Select(resource => new ArmResource(null, resource))];

    public JsonElement Parameter(string name) => Root.GetProperty("parameters").GetProperty(name);

    public JsonElement Variable(string name) => Root.GetProperty("variables").GetProperty(name);

    /// <summary>The type definition (<c>definitions</c>) a parameter of a user-defined type refers to.</summary>
    public JsonElement DefinitionOf(JsonElement parameter)
    {
        var reference = parameter.GetProperty("$ref").GetString()!;
        const string prefix = "#/definitions/";
        Assert.StartsWith(prefix, reference, StringComparison.Ordinal);
        return Root.GetProperty("definitions").GetProperty(reference[prefix.Length..]);
    }

    public JsonElement Outputs => Root.GetProperty("outputs");

    /// <summary>The single resource of <paramref name="type"/>.</summary>
    public ArmResource Resource(string type)
    {
        var matches = ResourcesOf(type);
        Assert.True(matches.Count == 1, $"Expected one {type}, found {matches.Count}.");
        return matches[0];
    }

    public IReadOnlyList<ArmResource> ResourcesOf(string type) =>
        [.. Resources.Where(resource => string.Equals(resource.Type, type, StringComparison.OrdinalIgnoreCase))];

    /// <summary>The nested deployment a Bicep <c>module</c> with deployment name <paramref name="name"/> became.</summary>
    public ArmResource ModuleDeployment(string name) =>
        Assert.Single(ResourcesOf("Microsoft.Resources/deployments"), deployment => deployment.Name == name);

    /// <summary>The template of the module deployed as <paramref name="name"/>.</summary>
    public ArmTemplate Module(string name) => new(ModuleDeployment(name).Properties.GetProperty("template"));

    /// <summary>The value (a literal or an ARM expression) main passes to parameter <paramref name="parameter"/> of a module.</summary>
    public JsonElement ModuleArgument(string module, string parameter) =>
        ModuleDeployment(module).Properties.GetProperty("parameters").GetProperty(parameter).GetProperty("value");

    /// <summary>Names of the variables an ARM expression reads (<c>variables('name')</c>).</summary>
    public static IReadOnlyList<string> VariablesReadBy(string expression) =>
        [.. VariableReference().Matches(expression).Select(match => match.Groups["name"].Value)];

    /// <summary>The parameter an expression that is exactly <c>[parameters('name')]</c> reads, else null.</summary>
    public static string? ParameterReadBy(string? expression) =>
        expression is not null && WholeParameterReference().Match(expression) is { Success: true } match
            ? match.Groups["name"].Value
            : null;

    [GeneratedRegex(@"variables\('(?<name>[^']+)'\)")]
    private static partial Regex VariableReference();

    [GeneratedRegex(@"^\[parameters\('(?<name>[^']+)'\)\]$")]
    private static partial Regex WholeParameterReference();
}

/// <summary>One resource of a compiled template.</summary>
public sealed record ArmResource(string? SymbolicName, JsonElement Element)
{
    public string Type => Element.GetProperty("type").GetString()!;

    public string Name => Element.GetProperty("name").GetString()!;

    public JsonElement Properties => Element.GetProperty("properties");

    /// <summary>The deployment condition (<c>if (...)</c> in Bicep), or null when the resource is always deployed.</summary>
    public string? Condition => Element.TryGetProperty("condition", out var condition) ? condition.GetString() : null;

    public string? Scope => Element.TryGetProperty("scope", out var scope) ? scope.GetString() : null;

    public override string ToString() => $"{SymbolicName ?? Name} ({Type})";
}
