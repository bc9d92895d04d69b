namespace MedSsl.Data;

/// <summary>Which part of an experiment an item belongs to. Dadoun et al. (2022, §3.1) split by patient into a small labelled
/// training set, a large unlabelled one, a validation set (thresholds, early stopping) and a test set.</summary>
public enum DataSplit
{
    Unassigned,
    Labelled,
    Unlabelled,
    Validation,
    Test,
}
