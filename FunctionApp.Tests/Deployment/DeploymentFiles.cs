using System.Text.Json;
using System.Text.RegularExpressions;

namespace FunctionApp.Tests.Deployment;

/// <summary>Reads the deployment files of the repository: function app root files, Bicep and scripts.</summary>
internal static partial class DeploymentFiles
{
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string PathOf(string relativePath) => Path.Combine(RepositoryRoot, relativePath);

    public static string Text(string relativePath) => File.ReadAllText(PathOf(relativePath));

    public static JsonDocument Json(string relativePath) => JsonDocument.Parse(Text(relativePath));

    /// <summary>Folders at the repository root holding a function.json: the functions of the app.</summary>
    public static IReadOnlyList<string> FunctionFolders() =>
        [.. Directory.GetDirectories(RepositoryRoot)
            .Where(folder => File.Exists(Path.Combine(folder, "function.json")))
            .Select(Path.GetFileName)
            .OfType<string>()
            .Order(StringComparer.Ordinal)];

    /// <summary>Keys of a Bicep object variable (<c>var name = { ... }</c>, closed by a '}' alone on its line).</summary>
    public static IReadOnlyList<string> BicepObjectKeys(string bicep, string variableName)
    {
        var body = BicepBlock(bicep, $"var {variableName} = {{", "}");
        return [.. BicepKeyLine().Matches(body).Select(match => match.Groups["key"].Value)];
    }

    /// <summary>String items of a Bicep array variable (<c>var name = [ ... ]</c>).</summary>
    public static IReadOnlyList<string> BicepStringArray(string bicep, string variableName)
    {
        var body = BicepBlock(bicep, $"var {variableName} = [", "]");
        return [.. BicepStringItem().Matches(body).Select(match => match.Groups["value"].Value)];
    }

    /// <summary>Default value of a string parameter: <c>param name type = 'value'</c>.</summary>
    public static string BicepParameterDefault(string bicep, string parameterName)
    {
        var match = Regex.Match(bicep, $@"(?m)^param {Regex.Escape(parameterName)} \w+ = '(?<value>[^']*)'$");
        Assert.True(match.Success, $"No string parameter '{parameterName}' with a default value.");
        return match.Groups["value"].Value;
    }

    private static string BicepBlock(string bicep, string opening, string closing)
    {
        var start = bicep.IndexOf("\n" + opening + "\n", StringComparison.Ordinal);
        Assert.True(start >= 0, $"No Bicep block opened by '{opening}'.");
        start += opening.Length + 2;
        var end = bicep.IndexOf("\n" + closing + "\n", start, StringComparison.Ordinal);
        Assert.True(end >= 0, $"The Bicep block '{opening}' is not closed by '{closing}' on its own line.");
        return bicep[start..end];
    }

    private static string FindRepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "RelationshipCallbacks.slnx")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"No RelationshipCallbacks.slnx above {AppContext.BaseDirectory}.");
    }

    [GeneratedRegex(@"(?m)^\s+'?(?<key>[A-Za-z_][A-Za-z0-9_]*)'?\s*:")]
    private static partial Regex BicepKeyLine();

    [GeneratedRegex(@"(?m)^\s+'(?<value>[^']*)'\s*$")]
    private static partial Regex BicepStringItem();
}
