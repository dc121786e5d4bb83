using System.Text.Json;

namespace FunctionApp.Tests.Deployment;

/// <summary>Reads the deployment files of the repository: function app root files, templates, scripts and the README.</summary>
internal static class DeploymentFiles
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
}
