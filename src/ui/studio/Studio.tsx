// The studio page: model and data, method, runs, curves, rank growth, and the playground. The built-in
// GPT demo and its text load at once, so one click on Train starts a LoRASC run.
import { useEffect } from 'react';
import { useStudio } from '../studioStore';
import { TrainingCharts } from './Charts';
import { RankCharts } from './RankCharts';
import { RunsPanel } from './RunsPanel';
import { SettingsPanel } from './SettingsPanel';
import { SourcePanel } from './SourcePanel';
import { TryPanel } from './TryPanel';

export function Studio() {
  const status = useStudio((s) => s.model.status);
  const loadDemo = useStudio((s) => s.loadDemo);
  useEffect(() => {
    if (status === 'idle') void loadDemo('gpt2-fortunes');
  }, [status, loadDemo]);
  return (
    <div className="studio">
      <div className="setup">
        <SourcePanel />
        <SettingsPanel />
      </div>
      <div className="results">
        <RunsPanel />
        <TrainingCharts />
        <RankCharts />
        <TryPanel />
      </div>
    </div>
  );
}
